// The public surface of the core, built into dist/core.js. The only barrel file of the project.
export * from './events';
export * from './errors';
export * from './model';
export * from './ports';
export * from './orchestratorTypes';
export * from './backoff';
export * from './engine';
export * from './executors/functionExecutor';
export * from './executors/outputTail';
export * from './executors/shellExecutor';
export * from './queueTypes';
export * from './messageQueue';
export * from './metricsTypes';
export * from './performanceMonitor';
