import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

/** The options RocksDB itself settled on for the database in `dir`: it writes them to its newest OPTIONS-* file. */
export async function rocksdbNativeOptions(dir: string): Promise<Map<string, string>> {
  const file = (await readdir(dir))
    .filter((f) => f.startsWith('OPTIONS-'))
    .sort()
    .pop()
  if (file === undefined) throw new Error(`no OPTIONS file in ${dir}: not a RocksDB database`)
  const settings = (await readFile(join(dir, file), 'utf8')).split('\n').map((line) => /^\s+([a-z_]+)=(.*)$/.exec(line))
  return new Map(settings.flatMap((m) => (m ? [[m[1]!, m[2]!] as const] : [])))
}

/** Every RocksDB database (a directory with a CURRENT file) under `root`. */
export async function rocksdbDirectories(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile() && e.name === 'CURRENT').map((e) => e.parentPath)
}
