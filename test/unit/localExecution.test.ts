// The local execution port (the TaskEngine in this process) against the port's conformance suite.
import { TaskEngine } from '../../src/core/engine/engine';
import { LocalExecution } from '../../src/core/execution/localExecution';
import { executionConformance } from '../support/executionConformance';

executionConformance('LocalExecution', {
  makePort: (executors, abortSettleMs) => new LocalExecution(new TaskEngine({ executors, abortSettleMs })),
});
