import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PartitionSeeks } from '../../../runtime/kafka/partition-seeks.js'

test('a batch taken before a seek of its partition is told apart from one taken after; other partitions are not affected', () => {
  const seeks = new PartitionSeeks()
  const takenBefore = seeks.count('in', 5)
  const otherBefore = seeks.count('in', 4)
  seeks.moved('in', 5)
  assert.notEqual(seeks.count('in', 5), takenBefore, 'the batch taken before the seek is stale')
  const takenAfter = seeks.count('in', 5)
  assert.equal(seeks.count('in', 5), takenAfter, 'a batch taken after it is current')
  assert.equal(seeks.count('in', 4), otherBefore)
  assert.equal(seeks.count('other', 5), 0)
})
