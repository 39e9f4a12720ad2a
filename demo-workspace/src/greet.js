'use strict';

/** Greets someone by name; an empty name is an error. */
function greet(name) {
  if (typeof name !== 'string' || name.trim() === '') throw new TypeError('Expected a non-empty name');
  return `Hello, ${name.trim()}!`;
}

module.exports = { greet };
