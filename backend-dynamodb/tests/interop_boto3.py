"""Optimistic locking by hand in boto3, for the interop test: read the item, then
update_item with ConditionExpression on the version attribute and
`SET ... version = version + 1`; on ConditionalCheckFailedException read again.

usage: interop_boto3.py ENDPOINT TABLE KEY MODE COUNT
  MODE turn:      one update of `data` (prints the version it read and wrote)
  MODE increment: COUNT increments of `count`, retrying on conflicts
"""
import sys

import boto3
from botocore.exceptions import ClientError

endpoint, table_name, key, mode, count = sys.argv[1:6]
table = boto3.resource(
    "dynamodb",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="test",
    aws_secret_access_key="test",
).Table(table_name)


def get_item(item_id):
    return table.get_item(Key={"id": item_id}, ConsistentRead=True).get("Item")


def update_item(item_id, names, values, expected_version):
    sets = ", ".join(f"#{n} = :{n}" for n in names)
    return table.update_item(
        Key={"id": item_id},
        UpdateExpression=f"SET {sets}, #version = #version + :i",
        ConditionExpression="#version = :v",  # the lock condition
        ExpressionAttributeNames={"#version": "_version", **{f"#{n}": n for n in names}},
        ExpressionAttributeValues={":i": 1, ":v": expected_version, **{f":{n}": values[n] for n in names}},
        ReturnValues="ALL_NEW",
    )


if mode == "turn":
    item = get_item(key)
    read = int(item["_version"])
    new = update_item(key, ["data"], {"data": f"python saw {read}"}, read)["Attributes"]
    print(f"read {read} wrote {int(new['_version'])}")
elif mode == "increment":
    conflicts = 0
    for _ in range(int(count)):
        while True:
            item = get_item(key)
            try:
                update_item(key, ["count"], {"count": int(item["count"]) + 1}, int(item["_version"]))
                break
            except ClientError as e:
                if e.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                conflicts += 1
    print(f"done conflicts {conflicts}")
else:
    sys.exit(f"unknown mode {mode}")
