#!/usr/bin/env python3
"""moto's server, with one correction: s3control answers in REST-XML whose root element AWS names after the
operation's output shape (`<GetAccessPointResult>`), and moto names it `<GetAccessPointResponse>`, which the
AWS SDK for Rust refuses ("invalid XML root"). Everything else is moto as installed. Usage: as
`moto_server` (`server.py -H 127.0.0.1 -p PORT`), for the tests and `make demo`."""
import sys

from moto.core import serialize
from moto.server import main

_moto_root = serialize.BaseXMLSerializer._serialized_result_to_response


def _aws_root(self, resp, result, shape, serialized_result):
    resp = _moto_root(self, resp, result, shape, serialized_result)
    model = self.operation_model
    if model.service_model.endpoint_prefix == "s3-control" and shape is not None \
            and "payload" not in shape.serialization and isinstance(resp.get("body"), str):
        wrong, right = f"{model.name}Response", shape.name
        resp["body"] = resp["body"].replace(f"<{wrong}", f"<{right}", 1).replace(f"</{wrong}>", f"</{right}>", 1)
    return resp


serialize.BaseXMLSerializer._serialized_result_to_response = _aws_root

if __name__ == "__main__":
    sys.exit(main())
