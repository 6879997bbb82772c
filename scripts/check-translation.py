"""What SAM makes of template.yaml, offline (samtranslator, the library `sam
deploy` transforms with), checked where the template alone cannot say:

- the HTTP API's routes: SAM writes every function event into the API's own
  OpenAPI body, so they exist when the API does, and the stage (created after
  the API it names) can resolve every RouteSettings key. A key naming no
  route fails the deploy ("Unable to find Route by key"); that is checked;
- each function's LoggingConfig: the Globals' levels merged with its own
  log group.

Usage: python scripts/check-translation.py template.yaml
"""

import json
import os
import re
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """The transform asks IAM for managed policies' ARNs only when the template names one."""

    def load(self):
        return {}


def main(path):
    os.environ.setdefault("AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", "us-east-1"))
    text = open(path, encoding="utf-8").read()
    # The transform insists on S3 code locations; `sam deploy` uploads and
    # rewrites them first, which is all this stands in for.
    text = re.sub(r"(?m)^(\s+CodeUri:) \.$", r"\1 s3://bucket/key", text)
    resources = transform(yaml_parse(text), {}, NoManagedPolicies())["Resources"]
    failures = []

    api = resources["Api"]
    paths = api["Properties"]["Body"]["paths"]
    routes = {f"{method.upper()} {path}" for path, methods in paths.items() for method in methods}
    stages = [r for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Stage"]
    if len(stages) != 1:
        failures.append(f"{len(stages)} stages, not the API's one")
    separate = [n for n, r in resources.items() if r["Type"] == "AWS::ApiGatewayV2::Route"]
    if separate:
        failures.append(f"routes as resources of their own, which a stage may precede: {separate}")
    for stage in stages:
        properties = stage["Properties"]
        if properties["ApiId"] != {"Ref": "Api"}:
            failures.append(f"a stage of another API: {properties['ApiId']}")
        for key in properties.get("RouteSettings", {}):
            if key not in routes:
                failures.append(f"RouteSettings names no route: {key}")
        if "AccessLogSettings" not in properties:
            failures.append("the stage writes no access log")

    functions = {n: r for n, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    declared = len(re.findall(r"(?m)^    Type: AWS::Serverless::Function$", text))
    if declared == 0 or len(functions) != declared:
        failures.append(f"{len(functions)} functions translated of {declared} declared")
    expected = {"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "SystemLogLevel": "INFO"}
    groups = []
    for name, function in functions.items():
        logging = function["Properties"].get("LoggingConfig", {})
        if any(logging.get(k) != v for k, v in expected.items()) or "LogGroup" not in logging:
            failures.append(f"{name}: LoggingConfig {json.dumps(logging)}")
        groups.append(json.dumps(logging.get("LogGroup")))
    if len(set(groups)) != len(groups):
        failures.append("two functions share a log group")

    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print(
        f"SAM's translation: {len(routes)} routes in the API's body, every one of "
        f"{sum(len(s['Properties'].get('RouteSettings', {})) for s in stages)} RouteSettings keys "
        f"among them; {len(functions)} functions, each with JSON logs at INFO to its own group"
    )


if __name__ == "__main__":
    main(sys.argv[1])
