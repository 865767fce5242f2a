import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SerdeError } from '../../../schemas/serde.js'

test('SerdeError names the serde in its message', () => {
  const e = new SerdeError('json', 'unexpected token')
  assert.equal(e.message, 'json: unexpected token')
  assert.equal(e.name, 'SerdeError')
})
