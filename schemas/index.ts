export { type Serde, SerdeError } from './serde.js'
export { type NullableSerde, isNullableSerde } from './primitive-serdes.js'
export { type JsonSerdeOptions } from './json-serde.js'
import { bufferSerde, doubleSerde, intSerde, longSerde, nullableSerde, stringSerde } from './primitive-serdes.js'
import { jsonSerde } from './json-serde.js'
import { avroSerde, avroSerdeFromFile } from './avro-serde.js'
import { windowedSerde } from './windowed-serde.js'

/** The built-in serdes: `Serdes.string()`, `Serdes.json<MyEvent>()`, `Serdes.avro<T>(schema)`, ... */
export const Serdes = {
  string: stringSerde,
  json: jsonSerde,
  double: doubleSerde,
  long: longSerde,
  int: intSerde,
  bytes: bufferSerde,
  nullable: nullableSerde,
  avro: avroSerde,
  avroFromFile: avroSerdeFromFile,
  windowed: windowedSerde,
} as const

export { bufferSerde, doubleSerde, intSerde, longSerde, nullableSerde, stringSerde, jsonSerde, avroSerde, avroSerdeFromFile, windowedSerde }
