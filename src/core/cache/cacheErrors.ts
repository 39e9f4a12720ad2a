// The cache's refusals. CACHE_OUTSIDE_ROOT: a path would lead out of the folder a cache reads and
// writes (a cache never writes outside the workspace). CACHE_CORRUPT: a stored piece did not match
// its hash when it was about to be used, so nothing was restored from it.
import { OrchestratorError } from '../model/errors';

export class CacheError extends OrchestratorError {
  constructor(code: 'CACHE_OUTSIDE_ROOT' | 'CACHE_CORRUPT', message: string) {
    super(code, message);
  }
}
