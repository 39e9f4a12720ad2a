// Pool capacities, from createOrchestrator's options, the extension's settings or a ResourcePools of
// its own: checked once here so that every way in refuses the same names and numbers.
import { describeValue, ValidationError } from './errors';
import { isPlainObject } from './guards';
import { LIMITS } from './limits';
import { checkInteger, fail, NAME_PATTERN } from './fieldChecks';

export function validateResourceCapacities(value: unknown, field = 'resources'): Record<string, number> {
  if (!isPlainObject(value)) fail(field, 'a plain object of pool names to capacities, like `{ gpu: 1, network: 4 }`', value);
  const copy: Record<string, number> = {};
  for (const name in value) {
    if (!NAME_PATTERN.test(name)) {
      throw new ValidationError(
        `Expected \`${field}\` to have pool names of a letter then up to 63 letters, digits, \`_\`, \`.\` or \`-\`, got ${describeValue(name)}`,
        `${field}.${name}`,
      );
    }
    copy[name] = checkInteger(`${field}.${name}`, value[name], 1, LIMITS.poolCapacity, 'an integer capacity');
  }
  return copy;
}
