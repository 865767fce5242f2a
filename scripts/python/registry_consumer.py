"""
Reads Avro records of Kafka topics with Confluent's own client, knowing nothing but the broker and
the Schema Registry URL: every record's writer schema comes from the registry by the id in its
Confluent wire-format header. Prints one JSON line per record: {"topic", "key", "schema_id", "value"}.

Proves that Sentinel's topics are readable as Kafka Connect, ksqlDB or `kcat -s avro` would read them.
Basic auth for the registry comes from SCHEMA_REGISTRY_AUTH=user:password, as in Sentinel.

usage: registry_consumer.py --brokers HOST:PORT --registry URL --topic T [--topic T ...]
                            [--min-per-topic N] [--timeout SECONDS]
"""
import argparse
import json
import os
import sys
import time
import uuid

from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--registry", required=True)
    parser.add_argument("--topic", action="append", required=True)
    parser.add_argument("--min-per-topic", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()

    registry_conf = {"url": args.registry}
    if os.environ.get("SCHEMA_REGISTRY_AUTH"):
        registry_conf["basic.auth.user.info"] = os.environ["SCHEMA_REGISTRY_AUTH"]
    # No schema given: the deserializer reads each record with its writer schema from the registry.
    deserializer = AvroDeserializer(SchemaRegistryClient(registry_conf))
    consumer = Consumer({
        "bootstrap.servers": args.brokers,
        "group.id": f"python-registry-consumer-{uuid.uuid4()}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    })
    consumer.subscribe(args.topic)
    counts = {topic: 0 for topic in args.topic}
    deadline = time.monotonic() + args.timeout
    try:
        while min(counts.values()) < args.min_per_topic:
            if time.monotonic() > deadline:
                print(f"timed out: records read per topic {counts}, wanted {args.min_per_topic} each", file=sys.stderr)
                return 2
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                print(f"consumer error: {message.error()}", file=sys.stderr)
                continue
            raw = message.value()
            value = deserializer(raw, SerializationContext(message.topic(), MessageField.VALUE))
            key = message.key()
            print(json.dumps({
                "topic": message.topic(),
                "key": key.decode("utf-8") if key is not None else None,
                "schema_id": int.from_bytes(raw[1:5], "big"),
                "value": value,
            }, default=str), flush=True)
            counts[message.topic()] += 1
    finally:
        consumer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
