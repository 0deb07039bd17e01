#!/usr/bin/env python3
"""Evaluates Flux healthCheckExprs (CEL) against statuses, as Flux does: reads
{"exprs": {"inProgress": ..., "failed": ..., "current": ...}, "objects": [obj, ...]} on stdin and prints, per
object, which expressions hold ("error" when an expression cannot be evaluated, e.g. no status)."""
import json
import sys

import celpy

request = json.load(sys.stdin)
env = celpy.Environment()
programs = {name: env.program(env.compile(expr)) for name, expr in request["exprs"].items()}
results = []
for obj in request["objects"]:
    activation = {k: celpy.json_to_cel(v) for k, v in obj.items()}
    row = {}
    for name, program in programs.items():
        try:
            value = program.evaluate(activation)
            row[name] = bool(value) if not isinstance(value, celpy.CELEvalError) else "error"
        except Exception:  # noqa: BLE001 - any evaluation failure is what Flux treats as "not yet"
            row[name] = "error"
    results.append(row)
print(json.dumps(results))
