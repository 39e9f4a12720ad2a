// The core's Store port conformance suite, run on VS Code's real Memento (the adapter the extension
// uses is the Memento itself). globalState: the extension keeps its own state in workspaceState.
import { storeConformance } from '../support/storeConformance';
import { getApi } from './helpers';

storeConformance('vscode.Memento', async () => (await getApi()).testing.spareMemento);
