import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { engineOfKind, engines, ROCKSDB_DEFAULTS, type StorageEngine } from '../../../state/index.js'
import { rocksdbNativeOptions } from './rocksdb-native-options.js'

/** Opens a store, writes and reads a key, closes it, and returns what RocksDB settled on. */
async function nativeOptions(engine: StorageEngine): Promise<Map<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), 'rocksdb-options-'))
  try {
    const store = await engine.open(join(dir, 'store'))
    await store.write([{ type: 'put', key: Buffer.from('k'), value: Buffer.from('v') }])
    assert.deepEqual(await store.getMany([Buffer.from('k')]), [Buffer.from('v')])
    await store.close()
    return await rocksdbNativeOptions(join(dir, 'store'))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

describe('RocksDB engine options reach the database', () => {
  test('defaults: no block cache (index and filter blocks with the table readers), bounded open files, 4 MB write buffers', async () => {
    const options = await nativeOptions(engines.rocksdb())
    assert.equal(options.get('no_block_cache'), 'true')
    assert.equal(options.get('cache_index_and_filter_blocks'), 'false')
    assert.equal(options.get('max_open_files'), String(ROCKSDB_DEFAULTS.maxOpenFiles))
    assert.equal(options.get('write_buffer_size'), String(4 * 1024 * 1024))
    assert.equal(options.get('max_write_buffer_number'), '2')
    assert.equal(options.get('max_background_jobs'), '2')
  })

  test('settings given: the block cache back on, all files open, smaller write buffers', async () => {
    const options = await nativeOptions(engines.rocksdb({ blockCache: true, maxOpenFiles: -1, writeBufferSize: 1 << 20 }))
    assert.equal(options.get('no_block_cache'), 'false')
    assert.equal(options.get('cache_index_and_filter_blocks'), 'true')
    assert.equal(options.get('max_open_files'), '-1')
    assert.equal(options.get('write_buffer_size'), String(1 << 20))
  })

  test('the runtime builds its engine from the config kind and its rocksdb settings', async () => {
    const options = await nativeOptions(engineOfKind('rocksdb', { rocksdb: { ...ROCKSDB_DEFAULTS, maxOpenFiles: 100 } }))
    assert.equal(options.get('max_open_files'), '100')
    assert.equal(engineOfKind('memory', { rocksdb: { blockCache: true } }).kind, 'memory')
    assert.equal(engineOfKind('leveldb').kind, 'leveldb')
  })
})
