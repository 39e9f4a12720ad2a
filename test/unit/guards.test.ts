import * as assert from 'node:assert/strict';
import { isObjectLike, isPlainObject } from '../../src/core/model/guards';

describe('guards', () => {
  class Row {
    id = 'task-1';
  }

  it('isObjectLike takes any object to read fields from, but not null or an array', () => {
    [{}, { a: 1 }, Object.create(null), new Row(), new Date(0)].forEach((v, i) => assert.equal(isObjectLike(v), true, `case ${i}`));
    [null, undefined, [], [1], 'x', 1, () => 1].forEach((v, i) => assert.equal(isObjectLike(v), false, `case ${i}`));
  });

  it('isPlainObject takes only data: object literals, JSON.parse output and null-prototype objects', () => {
    [{}, { a: 1 }, JSON.parse('{"b":2}'), Object.create(null)].forEach((v, i) => assert.equal(isPlainObject(v), true, `case ${i}`));
    [null, [], new Row(), new Date(0), new Map(), 'x'].forEach((v, i) => assert.equal(isPlainObject(v), false, `case ${i}`));
  });
});
