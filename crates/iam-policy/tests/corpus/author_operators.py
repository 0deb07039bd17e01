#!/usr/bin/env python3
"""Authoring aid for tests/corpus/operators: one table per condition operator. Each row: the policy values,
the request value (a string, an array for a multi-valued key, or null when the key is absent) and whether the
condition holds. Rows are written by hand from the IAM documentation; the JSON files are the source of truth."""
import json, os

T = {}
def table(op, *rows, note=""):
    T[op] = {"operator": op, "note": note, "rows": [
        {"policy": p if isinstance(p, list) else [p], "request": r, "expect": e, **({"operator": o} if o else {})}
        for (p, r, e, *rest) in rows for o in [rest[0] if rest else None]]}

ABSENT = None
table("StringEquals", ("abc", "abc", True), ("abc", "ABC", False), ("abc", "abcd", False), ("a*", "abc", False),
      ("a*", "a*", True), (["x", "abc"], "abc", True), ("abc", ABSENT, False), ("", "", True),
      ("abc", ["x", "abc"], True), ("abc", "abc", True, "StringEqualsIfExists"), ("abc", ABSENT, True, "StringEqualsIfExists"),
      ("abc", "x", False, "StringEqualsIfExists"))
table("StringNotEquals", ("abc", "abc", False), ("abc", "ABC", True), (["x", "abc"], "abc", False), (["x", "y"], "abc", True),
      ("abc", ABSENT, True), ("abc", ABSENT, True, "StringNotEqualsIfExists"), ("abc", "abc", False, "StringNotEqualsIfExists"),
      ("abc", ["x", "abc"], False), ("abc", ["x", "y"], True))
table("StringEqualsIgnoreCase", ("abc", "ABC", True), ("ABC", "abc", True), ("abc", "abd", False), ("abc", ABSENT, False),
      ("ÉTÉ", "été", True))
table("StringNotEqualsIgnoreCase", ("abc", "ABC", False), ("abc", "abd", True), ("abc", ABSENT, True),
      (["x", "ABC"], "abc", False))
table("StringLike", ("a*", "abc", True), ("a*", "bac", False), ("a?c", "abc", True), ("a?c", "ac", False),
      ("*", "", True), ("uploads/*", "uploads/a/b.jpg", True), ("uploads/*", "Uploads/a", False), ("abc", "abc", True),
      ("a*", ABSENT, False), (["x*", "a*"], "abc", True), ("*.jpg", ["a.png", "b.jpg"], True))
table("StringNotLike", ("a*", "abc", False), ("a*", "bac", True), ("a*", ABSENT, True), (["x*", "a*"], "abc", False),
      (["x*", "y*"], "abc", True), ("s3.*.amazonaws.com", "s3.us-east-1.amazonaws.com", False))
table("NumericEquals", ("10", "10", True), ("10", "10.0", True), ("10", "11", False), ("10", "ten", False), ("10", ABSENT, False),
      ("-1.5", "-1.5", True))
table("NumericNotEquals", ("10", "10", False), ("10", "11", True), ("10", ABSENT, True), (["10", "11"], "11", False))
table("NumericLessThan", ("1.2", "1.1", True), ("1.2", "1.2", False), ("1.2", "1.3", False), ("1.2", ABSENT, False),
      ("1.2", "x", False), (["1", "5"], "3", True))
table("NumericLessThanEquals", ("10", "10", True), ("10", "9", True), ("10", "11", False), ("10", ABSENT, False))
table("NumericGreaterThan", ("10", "11", True), ("10", "10", False), ("10", "9", False), ("10", ABSENT, False),
      ("10", ABSENT, True, "NumericGreaterThanIfExists"))
table("NumericGreaterThanEquals", ("10", "10", True), ("10", "11", True), ("10", "9", False), ("10", ABSENT, False))
table("DateEquals", ("2026-11-28T00:00:00Z", "2026-11-28T00:00:00Z", True), ("2026-11-28", "2026-11-28T00:00:00Z", True),
      ("2026-11-28T00:00:00Z", "2026-11-28T00:00:01Z", False), ("2026-11-28T00:00:00Z", "1795824000", True),
      ("2026-11-28T01:00:00+01:00", "2026-11-28T00:00:00Z", True), ("2026-11-28", ABSENT, False), ("2026-11-28", "soon", False))
table("DateNotEquals", ("2026-11-28", "2026-11-28", False), ("2026-11-28", "2026-11-29", True), ("2026-11-28", ABSENT, True))
table("DateLessThan", ("2027-01-01T00:00:00Z", "2026-11-28T10:00:00Z", True), ("2027-01-01T00:00:00Z", "2027-01-01T00:00:00Z", False),
      ("2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z", False), ("2027-01-01", ABSENT, False))
table("DateLessThanEquals", ("2027-01-01T00:00:00Z", "2027-01-01T00:00:00Z", True), ("2027-01-01T00:00:00Z", "2027-01-01T00:00:01Z", False))
table("DateGreaterThan", ("2026-01-01T00:00:00Z", "2026-11-28T10:00:00Z", True), ("2026-01-01T00:00:00Z", "2025-12-31T23:59:59Z", False),
      ("1700000000", "1795000000", True), ("2026-01-01", ABSENT, False))
table("DateGreaterThanEquals", ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", True), ("2026-01-01T00:00:00Z", "2025-12-31T00:00:00Z", False))
table("Bool", ("true", "true", True), ("true", "TRUE", True), ("true", "false", False), ("false", "false", True),
      ("true", ABSENT, False), ("false", ABSENT, True, "BoolIfExists"), ("true", "yes", False))
table("BinaryEquals", ("QmluYXJ5VmFsdWU=", "QmluYXJ5VmFsdWU=", True), ("QmluYXJ5VmFsdWU=", "T3RoZXI=", False),
      ("QmluYXJ5VmFsdWU=", ABSENT, False), ("QmluYXJ5VmFsdWU=", "not base64!", False))
table("IpAddress", ("54.240.143.0/24", "54.240.143.7", True), ("54.240.143.0/24", "54.240.144.7", False),
      ("54.240.143.7", "54.240.143.7", True), ("54.240.143.7/32", "54.240.143.8", False), ("0.0.0.0/0", "203.0.113.9", True),
      ("2001:db8::/32", "2001:db8:1::1", True), ("2001:db8::/32", "54.240.143.7", False), ("54.240.143.0/24", ABSENT, False),
      ("54.240.143.0/24", "not-an-ip", False), (["10.0.0.0/8", "54.240.143.0/24"], "54.240.143.7", True))
table("NotIpAddress", ("54.240.143.0/24", "54.240.143.7", False), ("54.240.143.0/24", "203.0.113.9", True),
      ("54.240.143.0/24", ABSENT, True), ("54.240.143.0/24", ABSENT, True, "NotIpAddressIfExists"),
      (["10.0.0.0/8", "54.240.143.0/24"], "54.240.143.7", False))
ROLE = "arn:aws:iam::111122223333:role/uploader"
table("ArnEquals", (ROLE, ROLE, True), (ROLE, "arn:aws:iam::111122223333:role/other", False),
      ("arn:aws:iam::111122223333:role/*", ROLE, True), (ROLE, ABSENT, False), (ROLE, "uploader", False),
      ("arn:aws:iam::*:role/uploader", ROLE, True))
table("ArnLike", ("arn:aws:iam::111122223333:role/*", ROLE, True), ("arn:aws:iam::444455556666:role/*", ROLE, False),
      ("arn:aws:iam::*:role/upload?r", ROLE, True), ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b", True),
      ("arn:aws:iam::111122223333:*", ROLE, True), (ROLE, ABSENT, False))
table("ArnNotEquals", (ROLE, ROLE, False), (ROLE, "arn:aws:iam::111122223333:role/other", True), (ROLE, ABSENT, True))
table("ArnNotLike", ("arn:aws:iam::111122223333:role/*", ROLE, False), ("arn:aws:iam::444455556666:*", ROLE, True),
      ("arn:aws:iam::*:role/*", ABSENT, True))
table("Null", ("true", ABSENT, True), ("true", "x", False), ("false", "x", True), ("false", ABSENT, False),
      (["true", "false"], ABSENT, True))
table("ForAllValues", (["a", "b"], ["a"], True, "ForAllValues:StringEquals"), (["a", "b"], ["a", "c"], False, "ForAllValues:StringEquals"),
      (["a"], ABSENT, True, "ForAllValues:StringEquals"), (["a"], [], True, "ForAllValues:StringEquals"),
      (["a*"], ["ab", "ac"], True, "ForAllValues:StringLike"), (["a"], ["b"], True, "ForAllValues:StringNotEquals"),
      (["a"], ["a", "b"], False, "ForAllValues:StringNotEquals"), (["a"], "a", True, "ForAllValues:StringEquals"),
      note="true when every request value satisfies the operator; true for an absent or empty set")
table("ForAnyValue", (["a", "b"], ["x", "b"], True, "ForAnyValue:StringEquals"), (["a"], ["x", "y"], False, "ForAnyValue:StringEquals"),
      (["a"], ABSENT, False, "ForAnyValue:StringEquals"), (["a"], [], False, "ForAnyValue:StringEquals"),
      (["a"], ["a", "b"], True, "ForAnyValue:StringNotEquals"), (["a"], ["a"], False, "ForAnyValue:StringNotEquals"),
      (["a"], ABSENT, False, "ForAnyValue:StringNotEquals"), (["x*"], ["ab", "xy"], True, "ForAnyValue:StringLike"),
      note="true when some request value satisfies the operator; false for an absent or empty set")

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "operators")
os.makedirs(out, exist_ok=True)
for op, t in T.items():
    with open(os.path.join(out, op + ".json"), "w") as f:
        json.dump(t, f, indent=2); f.write("\n")
print(len(T), "tables", sum(len(t["rows"]) for t in T.values()), "rows")
