"""A PynamoDB model with a VersionAttribute, for the interop test: PynamoDB's own
optimistic locking (save() puts the whole item on the condition `version = :read`,
or `attribute_not_exists(version)` for a new one, and counts the version up;
delete() is conditional the same way) on the table optimist writes.

usage: interop_pynamodb.py ENDPOINT TABLE KEY MODE COUNT
  MODE turn:      read, change `data`, save (prints the versions read and saved)
  MODE stale:     read, let optimist write (waits for a line on stdin), save: prints
                  whether PynamoDB refused it
  MODE stale-delete: the same with a delete
  MODE increment: COUNT increments of `count` by save(), read again on a conflict
  MODE delete:    read and delete (prints the version deleted)
  MODE create:    save a new item of version 1 (prints its version)
"""
import sys

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.exceptions import DeleteError, PutError
from pynamodb.models import Model

endpoint, table_name, key, mode, count = sys.argv[1:6]


class Thing(Model):
    class Meta:
        table_name = sys.argv[2]
        host = sys.argv[1]
        region = "us-east-1"
        aws_access_key_id = "test"
        aws_secret_access_key = "test"

    id = UnicodeAttribute(hash_key=True)
    data = UnicodeAttribute(null=True)
    count = NumberAttribute(null=True)
    version = VersionAttribute()


def conflicted(error):
    return error.cause_response_code == "ConditionalCheckFailedException"


def read():
    return Thing.get(key, consistent_read=True)


def attempt(write, error_type, done):
    """Runs a checked write: prints `done` after it, or "refused" when its condition
    failed."""
    try:
        write()
        print(done())
    except error_type as e:
        print("refused" if conflicted(e) else f"error {e}")


if mode == "turn":
    thing = read()
    seen = thing.version
    thing.data = f"pynamodb saw {seen}"
    thing.save()
    print(f"read {seen} wrote {thing.version}")
elif mode in ("stale", "stale-delete"):
    thing = read()
    print(f"read {thing.version}", flush=True)
    sys.stdin.readline()  # optimist writes now
    if mode == "stale":
        thing.data = "stale"
        attempt(thing.save, PutError, lambda: f"saved {thing.version}")
    else:
        attempt(thing.delete, DeleteError, lambda: f"deleted {thing.version}")
elif mode == "increment":
    conflicts = 0
    for _ in range(int(count)):
        while True:
            thing = read()
            thing.count = int(thing.count) + 1
            try:
                thing.save()
                break
            except PutError as e:
                if not conflicted(e):
                    raise
                conflicts += 1
    print(f"done conflicts {conflicts}")
elif mode == "delete":
    thing = read()
    attempt(thing.delete, DeleteError, lambda: f"deleted {thing.version}")
elif mode == "create":
    thing = Thing(key, data="pynamodb created", count=0)
    attempt(thing.save, PutError, lambda: f"created {thing.version}")
else:
    sys.exit(f"unknown mode {mode}")
