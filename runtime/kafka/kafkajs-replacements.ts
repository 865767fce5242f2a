/**
 * Every kafkajs module this project replaces, put in Node's module cache under kafkajs' own file
 * names. kafkajs' modules take some of them when they load, so this must be imported before
 * kafkajs is: first in every entry point that runs the runtime (the CLI, the package's index, the
 * ingest worker, the benches; the test runner preloads it). Each module says what it corrects and
 * whether it got installed:
 * - the read_committed filter (state/changelog/read-committed-filter.ts);
 * - the producer's send (kafkajs-send-messages.ts);
 * - the record encoder and the record batch checksum (kafkajs-record-encoder.ts);
 * - the record decoder (kafkajs-record-decoder.ts).
 */
import '../../state/changelog/read-committed-filter.js'
import './kafkajs-send-messages.js'
import './kafkajs-record-encoder.js'
import './kafkajs-record-decoder.js'
