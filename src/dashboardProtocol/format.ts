// The dashboard's protocol and the Tasks view read durations from here; the one definition lives in
// the core (src/core/util/formatDuration.ts) so the CLI, which does not reference this layer, shares it.
export { formatDuration } from '../core/util/formatDuration';
