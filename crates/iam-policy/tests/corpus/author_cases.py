#!/usr/bin/env python3
"""Authoring aid for tests/corpus/cases: each case below is written by hand with its expected decision,
determining statements and (where relevant) failing condition. The JSON files it writes are the source of
truth and are committed; rerun this only to add cases (it rewrites the files it owns, nothing else)."""
import json, os, sys

A = "111122223333"      # the uploader's account, and the bucket's unless said otherwise
B = "444455556666"      # another account
ROLE = f"arn:aws:iam::{A}:role/uploader"
SESSION = f"arn:aws:sts::{A}:assumed-role/uploader/pod-7f9c"
USER = f"arn:aws:iam::{A}:user/alice"
XROLE = f"arn:aws:iam::{B}:role/partner-uploader"
BUCKET = "doc-example-bucket"
OBJ = f"arn:aws:s3:::{BUCKET}/uploads/a.jpg"
OBJS = f"arn:aws:s3:::{BUCKET}/*"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
XKEY = f"arn:aws:kms:us-east-1:{B}:key/0987dcba-09fe-87dc-65ba-ab0987654321"

CASES = []

def pol(*statements, version="2012-10-17"):
    doc = {"Statement": list(statements)}
    if version:
        doc = {"Version": version, **doc}
    return doc

def st(effect, action="s3:PutObject", resource=OBJS, principal=None, condition=None, sid=None, **extra):
    s = {}
    if sid: s["Sid"] = sid
    s["Effect"] = effect
    if principal is not None: s["Principal"] = principal
    if action is not None: s["Action"] = action
    if resource is not None: s["Resource"] = resource
    if condition: s["Condition"] = condition
    s.update(extra)
    return s

def allow(**kw): return st("Allow", **kw)
def deny(**kw): return st("Deny", **kw)
PUT_ALLOW = pol(allow())
FULL = pol(allow(action="*", resource="*"))
RCP_FULL = pol(allow(action="*", resource="*", principal="*"))

def case(group, name, expect, determining, description, *, principal=ROLE, action="s3:PutObject", resource=OBJ,
         resourceAccount=A, context=None, identity=(PUT_ALLOW,), boundary=None, session=None, scps=(), rcps=(),
         resourcePolicy=None, vpce=None, unknownContextKeys=None, **expectations):
    c = {"name": f"{group}-{name}", "description": description, "principal": principal, "action": action,
         "resource": resource}
    if resourceAccount is not None: c["resourceAccount"] = resourceAccount
    c["context"] = context or {}
    if unknownContextKeys: c["unknownContextKeys"] = list(unknownContextKeys)
    c["identityPolicies"] = list(identity)
    c["permissionBoundary"] = boundary
    c["sessionPolicy"] = session
    c["scps"] = [list(level) for level in scps]
    c["rcps"] = [list(level) for level in rcps]
    c["resourcePolicy"] = resourcePolicy
    c["vpcEndpointPolicy"] = vpce
    c["expect"] = expect
    c["expectDetermining"] = list(determining)
    for k, v in expectations.items():
        c["expect" + k[0].upper() + k[1:]] = v
    CASES.append((group, c))

# ---------------------------------------------------------------------------------------------- actions
case("action", "exact", "Allowed", ["identity/0/0"], "identity policy names s3:PutObject")
case("action", "case-insensitive", "Allowed", ["identity/0/0"], "actions are case-insensitive",
     identity=[pol(allow(action="S3:PUTOBJECT"))])
case("action", "request-case-insensitive", "Allowed", ["identity/0/0"], "the request's action case does not matter",
     action="s3:putobject")
case("action", "service-star", "Allowed", ["identity/0/0"], "s3:* covers PutObject", identity=[pol(allow(action="s3:*"))])
case("action", "prefix-star", "Allowed", ["identity/0/0"], "s3:Put* covers PutObject", identity=[pol(allow(action="s3:Put*"))])
case("action", "question-mark", "Allowed", ["identity/0/0"], "? matches one character",
     identity=[pol(allow(action="s3:PutObjec?"))])
case("action", "question-mark-too-short", "ImplicitDeny", [], "? needs exactly one character",
     identity=[pol(allow(action="s3:PutObject?"))], classification="NoAllow")
case("action", "wrong-action", "ImplicitDeny", [], "GetObject does not cover PutObject",
     identity=[pol(allow(action="s3:GetObject"))], classification="NoAllow")
case("action", "star", "Allowed", ["identity/0/0"], "* covers every action", identity=[FULL])
case("action", "array", "Allowed", ["identity/0/0"], "an array of actions is ORed",
     identity=[pol(allow(action=["s3:GetObject", "s3:PutObject"]))])
case("action", "other-service", "ImplicitDeny", [], "s3express:* does not cover s3:PutObject",
     identity=[pol(allow(action="s3express:*"))], classification="NoAllow")
case("action", "notaction-allow-covers", "Allowed", ["identity/0/0"], "Allow NotAction iam:* covers s3:PutObject",
     identity=[pol(allow(action=None, NotAction="iam:*"))])
case("action", "notaction-allow-excludes", "ImplicitDeny", [], "Allow NotAction s3:* excludes s3:PutObject",
     identity=[pol(allow(action=None, NotAction="s3:*"))], classification="NoAllow")
case("action", "notaction-deny", "ExplicitDeny", ["identity/0/1"], "Deny NotAction s3:GetObject denies PutObject",
     identity=[pol(allow(), deny(action=None, NotAction="s3:GetObject", resource="*"))])
case("action", "notaction-deny-listed", "Allowed", ["identity/0/0"], "Deny NotAction s3:Put* leaves PutObject alone",
     identity=[pol(allow(), deny(action=None, NotAction="s3:Put*", resource="*"))])
case("action", "put-acl-separate", "ImplicitDeny", [], "s3:PutObject does not cover s3:PutObjectAcl",
     action="s3:PutObjectAcl", classification="NoAllow")
case("action", "put-star-covers-acl", "Allowed", ["identity/0/0"], "s3:PutObject* covers s3:PutObjectAcl",
     action="s3:PutObjectAcl", identity=[pol(allow(action="s3:PutObject*"))])

# ---------------------------------------------------------------------------------------------- resources
case("resource", "bucket-arn-not-objects", "ImplicitDeny", [], "the bucket ARN does not cover its objects",
     identity=[pol(allow(resource=f"arn:aws:s3:::{BUCKET}"))], classification="NoAllow")
case("resource", "prefix", "Allowed", ["identity/0/0"], "uploads/* covers uploads/a.jpg",
     identity=[pol(allow(resource=f"arn:aws:s3:::{BUCKET}/uploads/*"))])
case("resource", "other-prefix", "ImplicitDeny", [], "reports/* does not cover uploads/a.jpg",
     identity=[pol(allow(resource=f"arn:aws:s3:::{BUCKET}/reports/*"))], classification="NoAllow")
case("resource", "prefix-is-case-sensitive", "ImplicitDeny", [], "Uploads/* does not cover uploads/a.jpg",
     identity=[pol(allow(resource=f"arn:aws:s3:::{BUCKET}/Uploads/*"))], classification="NoAllow")
case("resource", "other-bucket", "ImplicitDeny", [], "another bucket's objects",
     identity=[pol(allow(resource="arn:aws:s3:::other-bucket/*"))], classification="NoAllow")
case("resource", "bucket-name-wildcard", "Allowed", ["identity/0/0"], "doc-example-* covers the bucket",
     identity=[pol(allow(resource="arn:aws:s3:::doc-example-*/*"))])
case("resource", "star", "Allowed", ["identity/0/0"], "* covers every resource", identity=[pol(allow(resource="*"))])
case("resource", "array", "Allowed", ["identity/0/0"], "an array of resources is ORed",
     identity=[pol(allow(resource=[f"arn:aws:s3:::{BUCKET}", OBJS]))])
case("resource", "question-mark", "Allowed", ["identity/0/0"], "? matches one character in a resource",
     identity=[pol(allow(resource=f"arn:aws:s3:::{BUCKET}/uploads/?.jpg"))])
case("resource", "notresource-allow", "Allowed", ["identity/0/0"], "Allow NotResource other bucket covers this one",
     identity=[pol(allow(resource=None, NotResource="arn:aws:s3:::other-bucket/*"))])
case("resource", "notresource-deny-excludes", "Allowed", ["identity/0/0"], "Deny NotResource this bucket leaves it alone",
     identity=[pol(allow(), deny(action="s3:*", resource=None, NotResource=[OBJS, f"arn:aws:s3:::{BUCKET}"]))])
case("resource", "notresource-deny-applies", "ExplicitDeny", ["identity/0/1"], "Deny NotResource other bucket denies this one",
     identity=[pol(allow(), deny(action="s3:*", resource=None, NotResource="arn:aws:s3:::other-bucket/*"))])
case("resource", "wrong-partition", "ImplicitDeny", [], "aws-cn ARNs do not cover aws resources",
     identity=[pol(allow(resource=f"arn:aws-cn:s3:::{BUCKET}/*"))], classification="NoAllow")
case("resource", "key-with-colon", "Allowed", ["identity/0/0"], "object keys may contain colons",
     resource=f"arn:aws:s3:::{BUCKET}/uploads/2026:11:28.csv")
case("resource", "variable-username", "Allowed", ["identity/0/0"], "home/${aws:username}/* for the user alice",
     principal=USER, resource=f"arn:aws:s3:::{BUCKET}/home/alice/a.txt",
     identity=[pol(allow(resource=f"arn:aws:s3:::{BUCKET}/home/${{aws:username}}/*"))])
case("resource", "variable-username-other-home", "ImplicitDeny", [], "alice cannot write bob's home",
     principal=USER, resource=f"arn:aws:s3:::{BUCKET}/home/bob/a.txt",
     identity=[pol(allow(resource=f"arn:aws:s3:::{BUCKET}/home/${{aws:username}}/*"))], classification="NoAllow")
case("resource", "variable-2008-is-literal", "ImplicitDeny", [], "Version 2008-10-17 has no variables: ${aws:username} is literal",
     principal=USER, resource=f"arn:aws:s3:::{BUCKET}/home/alice/a.txt",
     identity=[pol(allow(resource=f"arn:aws:s3:::{BUCKET}/home/${{aws:username}}/*"), version="2008-10-17")],
     classification="NoAllow")
case("resource", "variable-missing-version-is-2008", "ImplicitDeny", [], "no Version means 2008-10-17: variables are literal",
     principal=USER, resource=f"arn:aws:s3:::{BUCKET}/home/alice/a.txt",
     identity=[pol(allow(resource=f"arn:aws:s3:::{BUCKET}/home/${{aws:username}}/*"), version=None)],
     classification="NoAllow")
case("resource", "variable-role-has-no-username", "ImplicitDeny", [], "roles have no aws:username: the resource matches nothing",
     resource=f"arn:aws:s3:::{BUCKET}/home/uploader/a.txt",
     identity=[pol(allow(resource=f"arn:aws:s3:::{BUCKET}/home/${{aws:username}}/*"))],
     classification="NoAllow", missingContextKeys=["aws:username"])
case("resource", "variable-principal-tag", "Allowed", ["identity/0/0"], "team/${aws:PrincipalTag/team}/* with tag team=media",
     resource=f"arn:aws:s3:::{BUCKET}/team/media/a.txt", context={"aws:PrincipalTag/team": "media"},
     identity=[pol(allow(resource=f"arn:aws:s3:::{BUCKET}/team/${{aws:PrincipalTag/team}}/*"))])
case("resource", "variable-default", "Allowed", ["identity/0/0"], "a default applies when the tag is absent",
     resource=f"arn:aws:s3:::{BUCKET}/team/shared/a.txt",
     identity=[pol(allow(resource=f"arn:aws:s3:::{BUCKET}/team/${{aws:PrincipalTag/team, 'shared'}}/*"))])
case("resource", "variable-literal-star", "ImplicitDeny", [], "${*} is a literal star, not a wildcard",
     identity=[pol(allow(resource=f"arn:aws:s3:::{BUCKET}/${{*}}"))], classification="NoAllow")
case("resource", "variable-literal-star-matches-star", "Allowed", ["identity/0/0"], "${*} matches a key that is a star",
     resource=f"arn:aws:s3:::{BUCKET}/*", identity=[pol(allow(resource=f"arn:aws:s3:::{BUCKET}/${{*}}"))])

# ---------------------------------------------------------------------------------------------- principals (bucket policy)
NOID = ()  # no identity policy
case("principal", "same-account-role-arn-no-identity", "Allowed", ["resourcePolicy/0/0"],
     "same account: a bucket policy naming the role allows without an identity policy",
     identity=NOID, resourcePolicy=pol(allow(principal={"AWS": ROLE})), classification="Allowed")
case("principal", "same-account-session-arn", "Allowed", ["resourcePolicy/0/0"], "a bucket policy naming the exact session",
     principal=SESSION, identity=NOID,
     resourcePolicy=pol(allow(principal={"AWS": SESSION})))
case("principal", "other-session-name", "ImplicitDeny", [], "a bucket policy naming another session of the role",
     principal=SESSION, identity=NOID,
     resourcePolicy=pol(allow(principal={"AWS": f"arn:aws:sts::{A}:assumed-role/uploader/other"})), classification="NoAllow")
case("principal", "session-caller-role-grant", "Allowed", ["resourcePolicy/0/0"], "a role ARN grant covers every session of it",
     principal=SESSION, identity=NOID, resourcePolicy=pol(allow(principal={"AWS": ROLE})))
case("principal", "role-caller-session-grant", "ImplicitDeny", [], "a caller given as the role ARN has an unknown session name",
     identity=NOID, resourcePolicy=pol(allow(principal={"AWS": SESSION})), classification="NoAllow")
case("principal", "same-account-account-principal", "ImplicitDeny", [],
     "same account: naming the account delegates to IAM; with no identity allow nothing grants",
     identity=NOID, resourcePolicy=pol(allow(principal={"AWS": f"arn:aws:iam::{A}:root"})), classification="NoAllow")
case("principal", "same-account-account-id", "ImplicitDeny", [], "the bare account id is the same as the root ARN",
     identity=NOID, resourcePolicy=pol(allow(principal={"AWS": A})), classification="NoAllow")
case("principal", "same-account-account-principal-and-identity", "Allowed", ["identity/0/0"],
     "same account: an account principal plus an identity allow",
     resourcePolicy=pol(allow(principal={"AWS": A})))
case("principal", "other-role", "ImplicitDeny", [], "a bucket policy naming another role",
     identity=NOID, resourcePolicy=pol(allow(principal={"AWS": f"arn:aws:iam::{A}:role/other"})), classification="NoAllow")
case("principal", "role-with-path", "Allowed", ["resourcePolicy/0/0"], "a role ARN with a path names the same role",
     identity=NOID, resourcePolicy=pol(allow(principal={"AWS": f"arn:aws:iam::{A}:role/team/uploader"})))
case("principal", "user-arn", "Allowed", ["resourcePolicy/0/0"], "a bucket policy naming the user",
     principal=USER, identity=NOID, resourcePolicy=pol(allow(principal={"AWS": USER})))
case("principal", "user-vs-role", "ImplicitDeny", [], "a bucket policy naming a user does not cover the role",
     identity=NOID, resourcePolicy=pol(allow(principal={"AWS": USER})), classification="NoAllow")
case("principal", "star", "Allowed", ["resourcePolicy/0/0"], "Principal * covers the role",
     identity=NOID, resourcePolicy=pol(allow(principal="*")))
case("principal", "aws-star", "Allowed", ["resourcePolicy/0/0"], "Principal AWS * covers the role",
     identity=NOID, resourcePolicy=pol(allow(principal={"AWS": "*"})))
case("principal", "stale-unique-id", "ImplicitDeny", [], "a unique id left by a deleted role matches nobody",
     identity=NOID, resourcePolicy=pol(allow(principal={"AWS": "AROAEXAMPLEDELETED01"})), classification="NoAllow")
case("principal", "service-principal", "ImplicitDeny", [], "a service principal does not cover a role",
     identity=NOID, resourcePolicy=pol(allow(principal={"Service": "logging.s3.amazonaws.com"})), classification="NoAllow")
case("principal", "canonical-user", "ImplicitDeny", [], "a canonical user principal does not cover a role",
     identity=NOID, resourcePolicy=pol(allow(principal={"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"})),
     classification="NoAllow")
case("principal", "list-with-role", "Allowed", ["resourcePolicy/0/0"], "an array of principals is ORed",
     identity=NOID, resourcePolicy=pol(allow(principal={"AWS": [USER, ROLE]})))
case("principal", "deny-star", "ExplicitDeny", ["resourcePolicy/0/0"], "Deny with Principal * denies the role",
     resourcePolicy=pol(deny(principal="*")))
case("principal", "deny-other-role", "Allowed", ["identity/0/0"], "Deny naming another role leaves the uploader alone",
     resourcePolicy=pol(deny(principal={"AWS": f"arn:aws:iam::{A}:role/other"})))
case("principal", "notprincipal-role-only", "ExplicitDeny", ["resourcePolicy/0/0"],
     "Deny NotPrincipal listing only the role: the account and session are not excluded",
     resourcePolicy=pol(deny(principal=None, NotPrincipal={"AWS": ROLE})))
case("principal", "notprincipal-account-role-session", "Allowed", ["identity/0/0"],
     "Deny NotPrincipal listing account, role and session excludes the session",
     principal=SESSION, resourcePolicy=pol(deny(principal=None, NotPrincipal={"AWS": [f"arn:aws:iam::{A}:root", ROLE, SESSION]})))
case("principal", "notprincipal-with-boundary", "ExplicitDeny", ["resourcePolicy/0/0"],
     "Deny NotPrincipal always denies a principal with a permissions boundary",
     principal=SESSION, boundary=PUT_ALLOW,
     resourcePolicy=pol(deny(principal=None, NotPrincipal={"AWS": [f"arn:aws:iam::{A}:root", ROLE, SESSION]})))
case("principal", "notprincipal-user", "Allowed", ["identity/0/0"], "Deny NotPrincipal listing account and user excludes the user",
     principal=USER, resourcePolicy=pol(deny(principal=None, NotPrincipal={"AWS": [A, USER]})))
case("principal", "notprincipal-other", "ExplicitDeny", ["resourcePolicy/0/0"], "Deny NotPrincipal listing others denies the role",
     resourcePolicy=pol(deny(principal=None, NotPrincipal={"AWS": [B]})))
case("principal", "principal-arn-condition-deny-others", "Allowed", ["identity/0/0"],
     "AWS's recommended form: Deny * unless aws:PrincipalArn is the role",
     resourcePolicy=pol(deny(principal="*", condition={"ArnNotEquals": {"aws:PrincipalArn": ROLE}})))
case("principal", "principal-arn-condition-denies-other", "ExplicitDeny", ["resourcePolicy/0/0"],
     "Deny * unless aws:PrincipalArn is another role",
     resourcePolicy=pol(deny(principal="*", condition={"ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{A}:role/other"}})))

# ---------------------------------------------------------------------------------------------- cross-account
XB = dict(principal=XROLE)  # partner role in account B uploading to bucket in account A
case("cross", "both-allow", "Allowed", ["identity/0/0", "resourcePolicy/0/0"], "cross-account: identity and bucket policy both allow",
     resourcePolicy=pol(allow(principal={"AWS": XROLE})), **XB)
case("cross", "no-bucket-policy", "ImplicitDeny", [], "cross-account: no bucket policy",
     classification="ResourcePolicyNoAllow", **XB)
case("cross", "bucket-only", "ImplicitDeny", [], "cross-account: bucket policy alone is not enough",
     identity=NOID, resourcePolicy=pol(allow(principal={"AWS": XROLE})), classification="IdentityNoAllow", **XB)
case("cross", "account-principal", "Allowed", ["identity/0/0", "resourcePolicy/0/0"],
     "cross-account: naming the caller's account is a grant to that account",
     resourcePolicy=pol(allow(principal={"AWS": f"arn:aws:iam::{B}:root"})), **XB)
case("cross", "wrong-account-principal", "ImplicitDeny", [], "cross-account: the bucket policy names another account",
     resourcePolicy=pol(allow(principal={"AWS": "999988887777"})), classification="ResourcePolicyNoAllow", **XB)
case("cross", "star-principal", "Allowed", ["identity/0/0", "resourcePolicy/0/0"], "cross-account: Principal * with identity allow",
     resourcePolicy=pol(allow(principal="*")), **XB)
case("cross", "org-condition-match", "Allowed", ["identity/0/0", "resourcePolicy/0/0"], "Principal * limited to the organization",
     context={"aws:PrincipalOrgID": "o-abc123"},
     resourcePolicy=pol(allow(principal="*", condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})), **XB)
case("cross", "org-condition-mismatch", "ImplicitDeny", [], "Principal * limited to another organization",
     context={"aws:PrincipalOrgID": "o-other"},
     resourcePolicy=pol(allow(principal="*", condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})),
     classification="ResourcePolicyNoAllow", failingCondition={"key": "aws:PrincipalOrgID", "operator": "StringEquals"}, **XB)
case("cross", "boundary-limits", "ImplicitDeny", [], "cross-account: the caller's boundary does not allow",
     boundary=pol(allow(action="s3:GetObject")), resourcePolicy=pol(allow(principal={"AWS": XROLE})),
     classification="PermissionBoundaryNoAllow", **XB)
case("cross", "scp-of-caller", "ImplicitDeny", [], "cross-account: the caller's SCPs lack an allow at the account level",
     scps=[[FULL], [pol(allow(action="ec2:*", resource="*"))]], resourcePolicy=pol(allow(principal={"AWS": XROLE})),
     classification="ScpNoAllow", **XB)
case("cross", "bucket-deny-wins", "ExplicitDeny", ["resourcePolicy/0/1"], "cross-account: a bucket deny wins over both allows",
     resourcePolicy=pol(allow(principal={"AWS": XROLE}), deny(principal="*", condition={"Bool": {"aws:SecureTransport": "false"}})),
     context={"aws:SecureTransport": "false"}, **XB)
case("cross", "unknown-resource-account-is-cross", "ImplicitDeny", [], "a resource whose account is unknown is treated as cross-account",
     resource="arn:aws:sqs:us-east-1::queue", resourceAccount=None, identity=[pol(allow(action="sqs:SendMessage", resource="*"))],
     action="sqs:SendMessage", classification="ResourcePolicyNoAllow")

# ---------------------------------------------------------------------------------------------- layers
case("layer", "no-identity-policy", "ImplicitDeny", [], "no policy at all", identity=NOID, classification="NoAllow")
case("layer", "identity-deny-wins", "ExplicitDeny", ["identity/1/0"], "a deny in a second identity policy wins",
     identity=[PUT_ALLOW, pol(deny(action="s3:*", resource="*"))])
case("layer", "identity-deny-other-action", "Allowed", ["identity/0/0"], "a deny of another action changes nothing",
     identity=[PUT_ALLOW, pol(deny(action="s3:DeleteObject", resource="*"))])
case("layer", "boundary-allows", "Allowed", ["identity/0/0"], "identity and boundary allow",
     boundary=pol(allow(action="s3:*", resource="*")))
case("layer", "boundary-no-allow", "ImplicitDeny", [], "the boundary allows only reads",
     boundary=pol(allow(action="s3:Get*", resource="*")), classification="PermissionBoundaryNoAllow")
case("layer", "boundary-deny", "ExplicitDeny", ["permissionBoundary/0/1"], "the boundary denies",
     boundary=pol(allow(action="*", resource="*"), deny(action="s3:PutObject", resource="*")))
case("layer", "boundary-limits-role-arn-grant", "ImplicitDeny", [],
     "same account: a bucket policy grant to the role ARN is still limited by the boundary",
     identity=NOID, boundary=pol(allow(action="s3:GetObject", resource="*")),
     resourcePolicy=pol(allow(principal={"AWS": ROLE})), classification="PermissionBoundaryNoAllow")
case("layer", "boundary-does-not-limit-session-grant", "Allowed", ["resourcePolicy/0/0"],
     "same account: a grant to the session ARN is not limited by an implicit deny in the boundary",
     principal=SESSION, identity=NOID, boundary=pol(allow(action="s3:GetObject", resource="*")),
     resourcePolicy=pol(allow(principal={"AWS": SESSION})))
case("layer", "boundary-does-not-limit-user-grant", "Allowed", ["resourcePolicy/0/0"],
     "same account: a grant to the user ARN is not limited by an implicit deny in the boundary",
     principal=USER, identity=NOID, boundary=pol(allow(action="s3:GetObject", resource="*")),
     resourcePolicy=pol(allow(principal={"AWS": USER})))
case("layer", "boundary-does-not-limit-star-principal-arn", "Allowed", ["resourcePolicy/0/0"],
     "same account: Principal * with an aws:PrincipalArn condition is not limited by an implicit deny in the boundary",
     identity=NOID, boundary=pol(allow(action="s3:GetObject", resource="*")),
     resourcePolicy=pol(allow(principal="*", condition={"ArnEquals": {"aws:PrincipalArn": ROLE}})))
case("layer", "boundary-deny-limits-session-grant", "ExplicitDeny", ["permissionBoundary/0/0"],
     "an explicit deny in the boundary still applies to a session grant",
     principal=SESSION, identity=NOID, boundary=pol(deny(action="s3:PutObject", resource="*")),
     resourcePolicy=pol(allow(principal={"AWS": SESSION})))
case("layer", "session-policy-allows", "Allowed", ["identity/0/0"], "the session policy allows",
     principal=SESSION, session=PUT_ALLOW)
case("layer", "session-policy-no-allow", "ImplicitDeny", [], "the session policy allows only reads",
     principal=SESSION, session=pol(allow(action="s3:GetObject")), classification="SessionPolicyNoAllow")
case("layer", "session-policy-deny", "ExplicitDeny", ["sessionPolicy/0/0"], "the session policy denies",
     principal=SESSION, session=pol(deny(action="s3:*", resource="*")))
case("layer", "session-policy-limits-role-grant", "ImplicitDeny", [], "a session policy limits a grant to the role ARN",
     principal=SESSION, identity=NOID, session=pol(allow(action="s3:GetObject")),
     resourcePolicy=pol(allow(principal={"AWS": ROLE})), classification="SessionPolicyNoAllow")
case("layer", "scp-full-access", "Allowed", ["identity/0/0"], "FullAWSAccess at every level", scps=[[FULL], [FULL], [FULL]])
case("layer", "scp-missing-level", "ImplicitDeny", [], "the OU level allows only EC2",
     scps=[[FULL], [pol(allow(action="ec2:*", resource="*"))], [FULL]], classification="ScpNoAllow")
case("layer", "scp-empty-level", "ImplicitDeny", [], "a level with no policy attached allows nothing",
     scps=[[FULL], []], classification="ScpNoAllow")
case("layer", "scp-deny", "ExplicitDeny", ["scp/1/1/0"], "an SCP at the OU level denies s3:PutObject",
     scps=[[FULL], [FULL, pol(deny(action="s3:PutObject", resource="*"))]])
case("layer", "scp-region-deny", "ExplicitDeny", ["scp/0/1/0"], "an SCP denies requests outside eu-west-1",
     context={"aws:RequestedRegion": "us-east-1"},
     scps=[[FULL, pol(deny(action="*", resource="*", condition={"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}))]])
case("layer", "scp-region-allowed", "Allowed", ["identity/0/0"], "the region deny does not apply in eu-west-1",
     context={"aws:RequestedRegion": "eu-west-1"},
     scps=[[FULL, pol(deny(action="*", resource="*", condition={"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}))]])
case("layer", "scp-does-not-grant", "ImplicitDeny", [], "SCPs never grant: FullAWSAccess without identity allow",
     identity=NOID, scps=[[FULL]], classification="NoAllow")
case("layer", "scp-service-linked-role", "Allowed", ["identity/0/0"], "SCPs do not apply to service-linked roles",
     principal=f"arn:aws:iam::{A}:role/aws-service-role/s3.amazonaws.com/AWSServiceRoleForS3",
     scps=[[pol(deny(action="*", resource="*"))]])
case("layer", "rcp-full-access", "Allowed", ["identity/0/0"], "RCPFullAWSAccess", rcps=[[RCP_FULL]])
case("layer", "rcp-deny-outside-org", "ExplicitDeny", ["rcp/0/1/0"], "an RCP denies callers outside the organization",
     context={"aws:PrincipalOrgID": "o-other"}, principal=XROLE,
     resourcePolicy=pol(allow(principal={"AWS": XROLE})),
     rcps=[[RCP_FULL, pol(deny(action="s3:*", resource="*", principal="*",
                               condition={"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}}))]])
case("layer", "rcp-deny-inside-org", "Allowed", ["identity/0/0"], "the RCP deny spares callers inside the organization",
     context={"aws:PrincipalOrgID": "o-abc123"},
     rcps=[[RCP_FULL, pol(deny(action="s3:*", resource="*", principal="*",
                               condition={"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}}))]])
case("layer", "rcp-level-holds-full-access", "Allowed", ["identity/0/0"],
     "an RCP level without a listed Allow still holds RCPFullAWSAccess (attached everywhere, cannot be detached): only RCP Deny statements deny",
     rcps=[[pol(deny(action="sqs:*", resource="*", principal="*"))]])
case("layer", "rcp-unsupported-service", "Allowed", ["identity/0/0"], "RCPs do not govern services they do not support",
     action="ec2:RunInstances", resource="arn:aws:ec2:us-east-1:111122223333:instance/*",
     identity=[pol(allow(action="ec2:RunInstances", resource="*"))], rcps=[[pol(deny(action="*", resource="*", principal="*"))]])
case("layer", "vpce-default-policy", "Allowed", ["identity/0/0"], "the default endpoint policy allows all",
     vpce=pol(allow(action="*", resource="*", principal="*")))
case("layer", "vpce-other-bucket", "ImplicitDeny", [], "the endpoint policy only allows another bucket",
     vpce=pol(allow(action="s3:*", resource="arn:aws:s3:::other-bucket/*", principal="*")), classification="VpcEndpointNoAllow")
case("layer", "vpce-lacks-put-acl", "ImplicitDeny", [], "the endpoint policy allows PutObject but not PutObjectAcl",
     action="s3:PutObjectAcl", identity=[pol(allow(action="s3:PutObject*"))],
     vpce=pol(allow(action=["s3:PutObject", "s3:GetObject"], resource=OBJS, principal="*")), classification="VpcEndpointNoAllow")
case("layer", "vpce-deny", "ExplicitDeny", ["vpcEndpointPolicy/0/1"], "the endpoint policy denies the bucket",
     vpce=pol(allow(action="*", resource="*", principal="*"), deny(action="s3:*", resource=OBJS, principal="*")))
case("layer", "vpce-does-not-grant", "ImplicitDeny", [], "an endpoint policy never grants on its own",
     identity=NOID, vpce=pol(allow(action="*", resource="*", principal="*")), classification="NoAllow")
case("layer", "vpce-without-principal", "Allowed", ["identity/0/0"], "an endpoint policy statement without Principal covers everyone",
     vpce=pol(allow(action="s3:*", resource="*")))

# ---------------------------------------------------------------------------------------------- seed article: bucket-policy conditions
def seed(key, allow_cond, deny_cond, good_ctx, bad_ctx, op_allow, op_deny, slug):
    # Allow-with-condition: cross-account so that the bucket policy's Allow is required.
    case("seed", f"{slug}-allow-condition-unmet", "ImplicitDeny", [],
         f"cross-account; the bucket policy allows only with {op_allow} on {key}; the request does not satisfy it",
         principal=XROLE, context=bad_ctx, resourcePolicy=pol(allow(principal={"AWS": XROLE}, condition=allow_cond, sid="AllowWithCondition")),
         classification="ResourcePolicyNoAllow", failingCondition={"key": key, "operator": op_allow})
    case("seed", f"{slug}-allow-condition-met", "Allowed", ["identity/0/0", "resourcePolicy/0/0"],
         f"cross-account; the request satisfies {op_allow} on {key}",
         principal=XROLE, context=good_ctx, resourcePolicy=pol(allow(principal={"AWS": XROLE}, condition=allow_cond, sid="AllowWithCondition")))
    case("seed", f"{slug}-deny-condition-applies", "ExplicitDeny", ["resourcePolicy/0/0"],
         f"same account; the bucket policy denies uploads that fail {op_deny} on {key}",
         context=bad_ctx, resourcePolicy=pol(deny(principal="*", condition=deny_cond, sid="DenyWithCondition")))
    case("seed", f"{slug}-deny-condition-spared", "Allowed", ["identity/0/0"],
         f"same account; the request satisfies the policy on {key}, so the deny does not apply",
         context=good_ctx, resourcePolicy=pol(deny(principal="*", condition=deny_cond, sid="DenyWithCondition")))

seed("aws:SourceIp", {"IpAddress": {"aws:SourceIp": "54.240.143.0/24"}}, {"NotIpAddress": {"aws:SourceIp": "54.240.143.0/24"}},
     {"aws:SourceIp": "54.240.143.7"}, {"aws:SourceIp": "203.0.113.9"}, "IpAddress", "NotIpAddress", "source-ip")
seed("s3:x-amz-storage-class", {"StringEquals": {"s3:x-amz-storage-class": "STANDARD_IA"}},
     {"StringNotEquals": {"s3:x-amz-storage-class": "STANDARD_IA"}},
     {"s3:x-amz-storage-class": "STANDARD_IA"}, {}, "StringEquals", "StringNotEquals", "storage-class")
seed("s3:x-amz-acl", {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
     {"StringNotEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
     {"s3:x-amz-acl": "bucket-owner-full-control"}, {"s3:x-amz-acl": "public-read"}, "StringEquals", "StringNotEquals", "acl")
CANON = "id=79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
seed("s3:x-amz-grant-full-control", {"StringEquals": {"s3:x-amz-grant-full-control": CANON}},
     {"StringNotEquals": {"s3:x-amz-grant-full-control": CANON}},
     {"s3:x-amz-grant-full-control": CANON}, {}, "StringEquals", "StringNotEquals", "grant-full-control")
seed("s3:x-amz-server-side-encryption-aws-kms-key-id",
     {"StringEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": KEY}},
     {"StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": KEY}},
     {"s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": KEY},
     {"s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": XKEY},
     "StringEquals", "StringNotEquals", "kms-key-id")
seed("s3:x-amz-server-side-encryption", {"StringEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}},
     {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}},
     {"s3:x-amz-server-side-encryption": "aws:kms"}, {"s3:x-amz-server-side-encryption": "AES256"},
     "StringEquals", "StringNotEquals", "sse")
# The absent-header trap: a Deny with StringNotEquals applies when the header is absent; the Null form too.
case("seed", "sse-header-absent-deny", "ExplicitDeny", ["resourcePolicy/0/0"],
     "no SSE header at all: StringNotEquals is true for an absent key, the deny applies",
     resourcePolicy=pol(deny(principal="*", condition={"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}})),
     missingContextKeys=["s3:x-amz-server-side-encryption"])
case("seed", "sse-header-absent-null-deny", "ExplicitDeny", ["resourcePolicy/0/0"], "Null true on the SSE header denies uploads without it",
     resourcePolicy=pol(deny(principal="*", condition={"Null": {"s3:x-amz-server-side-encryption": "true"}})))
case("seed", "sse-header-present-null-spared", "Allowed", ["identity/0/0"], "Null true does not apply when the header is sent",
     context={"s3:x-amz-server-side-encryption": "AES256"},
     resourcePolicy=pol(deny(principal="*", condition={"Null": {"s3:x-amz-server-side-encryption": "true"}})))
case("seed", "sse-ifexists-absent-applies", "ExplicitDeny", ["resourcePolicy/0/0"],
     "IfExists makes an absent key true: a Deny with StringNotEqualsIfExists applies when the header is absent",
     resourcePolicy=pol(deny(principal="*", condition={"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}})))
case("seed", "sse-ifexists-wrong-value", "ExplicitDeny", ["resourcePolicy/0/0"], "StringNotEqualsIfExists applies to a wrong value",
     context={"s3:x-amz-server-side-encryption": "AES256"},
     resourcePolicy=pol(deny(principal="*", condition={"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}})))
case("seed", "source-ip-through-vpce", "ExplicitDeny", ["resourcePolicy/0/0"],
     "through a VPC endpoint there is no aws:SourceIp: NotIpAddress is true, the deny applies",
     context={"aws:SourceVpce": "vpce-1a2b3c4d"},
     resourcePolicy=pol(deny(principal="*", condition={"NotIpAddress": {"aws:SourceIp": "54.240.143.0/24"}})),
     missingContextKeys=["aws:SourceIp"])
case("seed", "source-vpce-allowed", "Allowed", ["identity/0/0"], "a deny unless through the right endpoint spares it",
     context={"aws:SourceVpce": "vpce-1a2b3c4d"},
     resourcePolicy=pol(deny(principal="*", condition={"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})))
case("seed", "source-vpce-wrong", "ExplicitDeny", ["resourcePolicy/0/0"], "a deny unless through another endpoint",
     context={"aws:SourceVpce": "vpce-9z8y7x6w"},
     resourcePolicy=pol(deny(principal="*", condition={"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})))
case("seed", "two-conditions-and", "ImplicitDeny", [], "two keys in one statement are ANDed: one fails",
     principal=XROLE, context={"aws:SourceIp": "54.240.143.7", "s3:x-amz-acl": "public-read"},
     resourcePolicy=pol(allow(principal={"AWS": XROLE}, condition={"IpAddress": {"aws:SourceIp": "54.240.143.0/24"},
                                                                    "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}})),
     classification="ResourcePolicyNoAllow", failingCondition={"key": "s3:x-amz-acl", "operator": "StringEquals"})
case("seed", "two-values-or", "Allowed", ["identity/0/0", "resourcePolicy/0/0"], "two values for one key are ORed",
     principal=XROLE, context={"s3:x-amz-acl": "private"},
     resourcePolicy=pol(allow(principal={"AWS": XROLE}, condition={"StringEquals": {"s3:x-amz-acl": ["bucket-owner-full-control", "private"]}})))
case("seed", "negated-two-values-and", "ExplicitDeny", ["resourcePolicy/0/0"], "a negated operator with two values must match neither",
     context={"s3:x-amz-acl": "public-read"},
     resourcePolicy=pol(deny(principal="*", condition={"StringNotEquals": {"s3:x-amz-acl": ["bucket-owner-full-control", "private"]}})))
case("seed", "secure-transport-deny", "ExplicitDeny", ["resourcePolicy/0/0"], "Deny aws:SecureTransport false over HTTP",
     context={"aws:SecureTransport": "false"},
     resourcePolicy=pol(deny(principal="*", action="s3:*", condition={"Bool": {"aws:SecureTransport": "false"}})))
case("seed", "secure-transport-https", "Allowed", ["identity/0/0"], "the HTTPS request is spared",
     context={"aws:SecureTransport": "true"},
     resourcePolicy=pol(deny(principal="*", action="s3:*", condition={"Bool": {"aws:SecureTransport": "false"}})))
case("seed", "tls-version-too-old", "ExplicitDeny", ["resourcePolicy/0/0"], "Deny s3:TlsVersion below 1.2",
     context={"s3:TlsVersion": "1.1"},
     resourcePolicy=pol(deny(principal="*", action="s3:*", condition={"NumericLessThan": {"s3:TlsVersion": "1.2"}})))
case("seed", "tls-version-ok", "Allowed", ["identity/0/0"], "TLS 1.3 is spared",
     context={"s3:TlsVersion": "1.3"},
     resourcePolicy=pol(deny(principal="*", action="s3:*", condition={"NumericLessThan": {"s3:TlsVersion": "1.2"}})))

# ---------------------------------------------------------------------------------------------- identity conditions
case("condition", "tag-keys-forallvalues-ok", "Allowed", ["identity/0/0"], "ForAllValues: every tag key is allowed",
     context={"s3:RequestObjectTagKeys": ["team", "owner"]},
     identity=[pol(allow(condition={"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["team", "owner", "cost"]}}))])
case("condition", "tag-keys-forallvalues-extra", "ImplicitDeny", [], "ForAllValues: one tag key is not allowed",
     context={"s3:RequestObjectTagKeys": ["team", "secret"]},
     identity=[pol(allow(condition={"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["team", "owner"]}}))],
     classification="NoAllow", failingCondition={"key": "s3:RequestObjectTagKeys", "operator": "ForAllValues:StringEquals"})
case("condition", "tag-keys-forallvalues-absent", "Allowed", ["identity/0/0"], "ForAllValues is true when the key is absent (dangerous with Allow)",
     identity=[pol(allow(condition={"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["team"]}}))])
case("condition", "tag-keys-foranyvalue-absent", "ImplicitDeny", [], "ForAnyValue is false when the key is absent",
     identity=[pol(allow(condition={"ForAnyValue:StringEquals": {"s3:RequestObjectTagKeys": ["team"]}}))],
     classification="NoAllow", missingContextKeys=["s3:RequestObjectTagKeys"])
case("condition", "tag-keys-foranyvalue-one", "Allowed", ["identity/0/0"], "ForAnyValue: one key matches",
     context={"s3:RequestObjectTagKeys": ["x", "team"]},
     identity=[pol(allow(condition={"ForAnyValue:StringEquals": {"s3:RequestObjectTagKeys": ["team"]}}))])
case("condition", "principal-tag-match", "Allowed", ["identity/0/0"], "object tag must equal the principal's tag",
     context={"aws:PrincipalTag/team": "media", "s3:RequestObjectTag/team": "media"},
     identity=[pol(allow(condition={"StringEquals": {"s3:RequestObjectTag/team": "${aws:PrincipalTag/team}"}}))])
case("condition", "principal-tag-mismatch", "ImplicitDeny", [], "object tag differs from the principal's tag",
     context={"aws:PrincipalTag/team": "media", "s3:RequestObjectTag/team": "finance"},
     identity=[pol(allow(condition={"StringEquals": {"s3:RequestObjectTag/team": "${aws:PrincipalTag/team}"}}))],
     classification="NoAllow", failingCondition={"key": "s3:RequestObjectTag/team", "operator": "StringEquals"})
case("condition", "principal-tag-absent-variable", "ImplicitDeny", [], "the principal has no team tag: the variable does not resolve",
     context={"s3:RequestObjectTag/team": "media"},
     identity=[pol(allow(condition={"StringEquals": {"s3:RequestObjectTag/team": "${aws:PrincipalTag/team}"}}))],
     classification="NoAllow", missingContextKeys=["aws:PrincipalTag/team"])
case("condition", "unresolved-variable-negated-deny", "ExplicitDeny", ["identity/1/0"],
     "an unresolvable variable is a null value (IAM User Guide, policy variables with no value): a negated operator matches it, so the deny applies",
     context={"s3:RequestObjectTag/team": "media"},
     identity=[PUT_ALLOW, pol(deny(condition={"StringNotEquals": {"s3:RequestObjectTag/team": "${aws:PrincipalTag/team}"}}))],
     missingContextKeys=["aws:PrincipalTag/team"])
case("condition", "unresolved-variable-positive-allow", "ImplicitDeny", [],
     "an unresolvable variable is a null value: nothing equals it, so an Allow on it does not apply",
     context={"s3:RequestObjectTag/team": "media"},
     identity=[pol(allow(condition={"StringEquals": {"s3:RequestObjectTag/team": "${aws:PrincipalTag/team}"}}))],
     missingContextKeys=["aws:PrincipalTag/team"], classification="NoAllow")
case("condition", "unknown-value-deny", "ExplicitDeny", ["resourcePolicy/0/0"],
     "a Deny on a key the request carries with a value nobody gave (the source IP) may apply: it counts as a possible deny",
     unknownContextKeys=["aws:SourceIp"],
     resourcePolicy=pol(deny(principal="*", condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}})))
case("condition", "unknown-value-allow", "ImplicitDeny", [],
     "an Allow on a key with an unknown value never allows for certain",
     unknownContextKeys=["aws:SourceIp"],
     identity=[pol(allow(condition={"IpAddress": {"aws:SourceIp": "54.240.143.0/24"}}))], classification="NoAllow")
case("condition", "unknown-value-null-check", "Allowed", ["identity/0/0"],
     "a key with an unknown value is present: a Null check on it is decided",
     unknownContextKeys=["aws:SourceIp"],
     identity=[PUT_ALLOW], resourcePolicy=pol(deny(principal="*", condition={"Null": {"aws:SourceIp": "true"}})))
case("condition", "unknown-value-other-clause-false", "Allowed", ["identity/0/0"],
     "a Deny whose other clause is false does not apply, whatever the unknown value",
     unknownContextKeys=["aws:SourceIp"], context={"s3:x-amz-acl": "private"},
     identity=[PUT_ALLOW], resourcePolicy=pol(deny(principal="*", condition={
         "IpAddress": {"aws:SourceIp": "0.0.0.0/0"}, "StringEquals": {"s3:x-amz-acl": "public-read"}})))
case("condition", "unknown-value-variable", "ExplicitDeny", ["resourcePolicy/0/0"],
     "a policy variable on a key with an unknown value (the session's userid) cannot be resolved to null: the Deny may apply",
     unknownContextKeys=["aws:userid"], context={"s3:RequestObjectTag/owner": "batch"},
     resourcePolicy=pol(deny(principal="*", condition={"StringNotEquals": {"s3:RequestObjectTag/owner": "${aws:userid}"}})))
case("condition", "keys-case-insensitive", "Allowed", ["identity/0/0"], "condition keys are case-insensitive",
     context={"aws:sourceip": "54.240.143.7"},
     identity=[pol(allow(condition={"IpAddress": {"AWS:SourceIP": "54.240.143.0/24"}}))])
case("condition", "values-case-sensitive", "ImplicitDeny", [], "StringEquals values are case-sensitive",
     context={"s3:x-amz-acl": "Private"},
     identity=[pol(allow(condition={"StringEquals": {"s3:x-amz-acl": "private"}}))], classification="NoAllow")
case("condition", "ignore-case", "Allowed", ["identity/0/0"], "StringEqualsIgnoreCase ignores case",
     context={"s3:x-amz-acl": "Private"},
     identity=[pol(allow(condition={"StringEqualsIgnoreCase": {"s3:x-amz-acl": "private"}}))])
case("condition", "mfa-absent-bool", "ImplicitDeny", [], "Bool MultiFactorAuthPresent true with no MFA key",
     identity=[pol(allow(condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}))], classification="NoAllow",
     missingContextKeys=["aws:MultiFactorAuthPresent"])
case("condition", "mfa-deny-boolifexists", "ExplicitDeny", ["identity/0/1"], "Deny BoolIfExists MFA false: a session without MFA is denied",
     context={"aws:MultiFactorAuthPresent": "false"},
     identity=[pol(allow(), deny(action="*", resource="*", condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}))])
case("condition", "date-window-open", "Allowed", ["identity/0/0"], "within the allowed window",
     context={"aws:CurrentTime": "2026-11-28T10:00:00Z"},
     identity=[pol(allow(condition={"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"},
                                     "DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}}))])
case("condition", "date-window-closed", "ImplicitDeny", [], "after the allowed window",
     context={"aws:CurrentTime": "2027-02-01T00:00:00Z"},
     identity=[pol(allow(condition={"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"},
                                     "DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}}))],
     classification="NoAllow", failingCondition={"key": "aws:CurrentTime", "operator": "DateLessThan"})
case("condition", "epoch-time", "Allowed", ["identity/0/0"], "aws:EpochTime compared numerically as a date",
     context={"aws:EpochTime": "1795000000"},
     identity=[pol(allow(condition={"DateGreaterThan": {"aws:EpochTime": "1700000000"}}))])
case("condition", "empty-condition-block", "Allowed", ["identity/0/0"], "an empty Condition block holds",
     identity=[pol(allow(condition=None, Condition={}))])

# ---------------------------------------------------------------------------------------------- KMS key policies
KMS_CTX = {"kms:ViaService": "s3.us-east-1.amazonaws.com", "kms:CallerAccount": A}
KP_DELEGATE = pol(allow(principal={"AWS": f"arn:aws:iam::{A}:root"}, action="kms:*", resource="*", sid="EnableIAM"))
KMS_ID = pol(allow(action=["kms:GenerateDataKey", "kms:Decrypt"], resource=KEY))
def kms(name, expect, det, desc, **kw):
    kw.setdefault("action", "kms:GenerateDataKey"); kw.setdefault("resource", KEY); kw.setdefault("resourceAccount", None)
    kw.setdefault("context", KMS_CTX)
    case("kms", name, expect, det, desc, **kw)
kms("delegated-and-identity", "Allowed", ["identity/0/0", "resourcePolicy/0/0"], "the key policy delegates to IAM and IAM allows",
    identity=[KMS_ID], resourcePolicy=KP_DELEGATE)
kms("delegated-no-identity", "ImplicitDeny", [], "the key policy delegates to IAM but IAM does not allow",
    identity=[PUT_ALLOW], resourcePolicy=KP_DELEGATE, classification="IdentityNoAllow")
kms("no-delegation-identity-ineffective", "ImplicitDeny", [], "without the account statement, IAM policies are ineffective",
    identity=[KMS_ID], resourcePolicy=pol(allow(principal={"AWS": f"arn:aws:iam::{A}:role/admin"}, action="kms:*", resource="*")),
    classification="ResourcePolicyNoAllow")
kms("key-policy-names-role", "Allowed", ["resourcePolicy/0/0"], "the key policy names the role directly",
    identity=NOID, resourcePolicy=pol(allow(principal={"AWS": ROLE}, action=["kms:GenerateDataKey", "kms:Decrypt"], resource="*")))
kms("key-policy-role-lacks-action", "ImplicitDeny", [], "the key policy names the role for Encrypt only",
    identity=NOID, resourcePolicy=pol(allow(principal={"AWS": ROLE}, action="kms:Encrypt", resource="*")),
    classification="ResourcePolicyNoAllow")
kms("no-key-policy", "ImplicitDeny", [], "a key request with no key policy is denied", identity=[KMS_ID],
    classification="ResourcePolicyNoAllow")
kms("decrypt-missing", "ImplicitDeny", [], "multipart needs kms:Decrypt; IAM allows only GenerateDataKey",
    action="kms:Decrypt", identity=[pol(allow(action="kms:GenerateDataKey", resource=KEY))], resourcePolicy=KP_DELEGATE,
    classification="IdentityNoAllow")
kms("via-service-match", "Allowed", ["identity/0/0", "resourcePolicy/0/0"], "kms:ViaService s3 condition holds",
    identity=[pol(allow(action="kms:GenerateDataKey", resource=KEY, condition={"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}))],
    resourcePolicy=KP_DELEGATE)
kms("via-service-other-region", "ImplicitDeny", [], "kms:ViaService names another region's S3",
    identity=[pol(allow(action="kms:GenerateDataKey", resource=KEY, condition={"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}))],
    resourcePolicy=KP_DELEGATE, classification="IdentityNoAllow",
    failingCondition={"key": "kms:ViaService", "operator": "StringEquals"})
kms("cross-account-both", "Allowed", ["identity/0/0", "resourcePolicy/0/0"], "cross-account key: key policy names the account and IAM allows",
    resource=XKEY, identity=[pol(allow(action="kms:GenerateDataKey", resource=XKEY))],
    resourcePolicy=pol(allow(principal={"AWS": f"arn:aws:iam::{A}:root"}, action="kms:GenerateDataKey", resource="*")))
kms("cross-account-key-policy-missing", "ImplicitDeny", [], "cross-account key: the key policy does not name the caller's account",
    resource=XKEY, identity=[pol(allow(action="kms:GenerateDataKey", resource=XKEY))],
    resourcePolicy=pol(allow(principal={"AWS": f"arn:aws:iam::{B}:root"}, action="kms:*", resource="*")),
    classification="ResourcePolicyNoAllow")
kms("cross-account-identity-missing", "ImplicitDeny", [], "cross-account key: IAM does not allow the foreign key",
    resource=XKEY, identity=[KMS_ID],
    resourcePolicy=pol(allow(principal={"AWS": f"arn:aws:iam::{A}:root"}, action="kms:GenerateDataKey", resource="*")),
    classification="IdentityNoAllow")
kms("key-policy-deny", "ExplicitDeny", ["resourcePolicy/0/1"], "the key policy denies outside S3",
    context={"kms:CallerAccount": A}, identity=[KMS_ID],
    resourcePolicy=pol(KP_DELEGATE["Statement"][0], deny(principal="*", action="kms:*", resource="*",
                                                          condition={"StringNotLike": {"kms:ViaService": "s3.*.amazonaws.com"}})))
kms("encryption-context-bucket-key", "ImplicitDeny", [], "with a Bucket Key the context is the bucket ARN, not the object ARN",
    context={**KMS_CTX, "kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{BUCKET}"},
    identity=[pol(allow(action="kms:GenerateDataKey", resource=KEY,
                        condition={"StringLike": {"kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{BUCKET}/*"}}))],
    resourcePolicy=KP_DELEGATE, classification="IdentityNoAllow",
    failingCondition={"key": "kms:EncryptionContext:aws:s3:arn", "operator": "StringLike"})
kms("scp-denies-kms", "ExplicitDeny", ["scp/0/1/0"], "an SCP denies kms:GenerateDataKey",
    identity=[KMS_ID], resourcePolicy=KP_DELEGATE, scps=[[FULL, pol(deny(action="kms:GenerateDataKey", resource="*"))]])

# ---------------------------------------------------------------------------------------------- anonymous and root
case("anonymous", "public-bucket-policy", "Allowed", ["resourcePolicy/0/0"], "anonymous upload through Principal *",
     principal="anonymous", identity=NOID, resourcePolicy=pol(allow(principal="*")))
case("anonymous", "no-bucket-policy", "ImplicitDeny", [], "anonymous callers need a resource policy",
     principal="anonymous", identity=NOID, classification="ResourcePolicyNoAllow")
case("anonymous", "account-principal", "ImplicitDeny", [], "an account principal does not cover anonymous callers",
     principal="anonymous", identity=NOID, resourcePolicy=pol(allow(principal={"AWS": A})), classification="ResourcePolicyNoAllow")
case("anonymous", "scp-does-not-apply", "Allowed", ["resourcePolicy/0/0"], "SCPs do not apply to anonymous callers",
     principal="anonymous", identity=NOID, resourcePolicy=pol(allow(principal="*")), scps=[[pol(deny(action="*", resource="*"))]])
case("anonymous", "rcp-applies", "ExplicitDeny", ["rcp/0/1/0"], "RCPs do apply to anonymous callers",
     principal="anonymous", identity=NOID, resourcePolicy=pol(allow(principal="*")),
     rcps=[[RCP_FULL, pol(deny(principal="*", action="s3:*", resource="*", condition={"Null": {"aws:PrincipalAccount": "true"}}))]])
case("root", "own-account", "Allowed", [], "the root user of the bucket's account needs no policy",
     principal=f"arn:aws:iam::{A}:root", identity=NOID, classification="Allowed")
case("root", "bucket-deny", "ExplicitDeny", ["resourcePolicy/0/0"], "a bucket policy deny applies to the root user too",
     principal=f"arn:aws:iam::{A}:root", identity=NOID, resourcePolicy=pol(deny(principal="*")))
case("root", "other-account", "ImplicitDeny", [], "another account's root user needs a bucket policy grant",
     principal=f"arn:aws:iam::{B}:root", identity=NOID, classification="ResourcePolicyNoAllow")

# ---------------------------------------------------------------------------------------------- malformed input (errors never allow)
def bad(name, expect, det, desc, pointers, **kw):
    case("error", name, expect, det, desc, errorPointers=pointers, **kw)
bad("unknown-operator-allow", "ImplicitDeny", [], "an Allow with an unknown operator does not allow",
    ["/identityPolicies/0/Statement/0/Condition/StringEqualz"],
    identity=[pol(allow(condition={"StringEqualz": {"s3:x-amz-acl": "private"}}))], classification="NoAllow")
bad("unknown-operator-deny", "ExplicitDeny", ["resourcePolicy/0/0"], "a Deny with an unknown operator is treated as applying",
    ["/resourcePolicy/Statement/0/Condition/StringNotEqualz"],
    resourcePolicy=pol(deny(principal="*", condition={"StringNotEqualz": {"s3:x-amz-acl": "private"}})))
bad("broken-deny-other-action", "Allowed", ["identity/0/0"], "a broken Deny for another action is proved not to apply",
    ["/resourcePolicy/Statement/0/Condition/StringNotEqualz"],
    resourcePolicy=pol(deny(principal="*", action="s3:GetObject", condition={"StringNotEqualz": {"s3:x-amz-acl": "private"}})))
bad("broken-deny-failing-condition", "Allowed", ["identity/0/0"], "a broken Deny whose other condition is false does not apply",
    ["/resourcePolicy/Statement/0/Condition/Bogus"],
    context={"aws:SecureTransport": "true"},
    resourcePolicy=pol(deny(principal="*", condition={"Bool": {"aws:SecureTransport": "false"}, "Bogus": {"a": "b"}})))
bad("invalid-effect", "ExplicitDeny", ["identity/0/1"], "a statement with an invalid Effect may be a Deny",
    ["/identityPolicies/0/Statement/1/Effect"],
    identity=[pol(allow(), st("Alow"))])
bad("not-json-string", "ExplicitDeny", ["identity/0/0"], "a policy string that is not JSON is an error and might deny anything: it fails closed",
    ["/identityPolicies/0"], identity=["{not json"])
bad("not-json-resource-policy", "ExplicitDeny", ["resourcePolicy/0/0"],
    "an unreadable bucket policy might hold a Deny: identity allows, and still the answer is not Allowed",
    ["/resourcePolicy"], resourcePolicy="{not json")
bad("duplicate-effect", "ExplicitDeny", ["resourcePolicy/0/0"],
    "a document with a duplicate key (a second Effect) cannot be read for certain: it fails closed, as Access Analyzer flags it",
    ["/resourcePolicy/Statement/0"],
    resourcePolicy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::doc-example-bucket/*"}]}')
bad("duplicate-condition-operator", "ExplicitDeny", ["resourcePolicy/0/0"],
    "a duplicate condition operator hides one of its clauses: the document fails closed",
    ["/resourcePolicy/Statement/0/Condition"],
    resourcePolicy='{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::doc-example-bucket/*","Condition":{"StringEquals":{"s3:x-amz-acl":"public-read"},"StringEquals":{"s3:x-amz-storage-class":"GLACIER"}}}]}')
bad("unterminated-variable-deny", "ExplicitDeny", ["resourcePolicy/0/0"],
    "a `${` never closed is an error, not literal text: the Deny cannot be shown not to apply",
    ["/resourcePolicy/Statement/0/Resource/0"],
    resourcePolicy=pol(deny(principal="*", resource="arn:aws:s3:::doc-example-bucket/${aws:username")))
bad("unterminated-variable-condition", "ExplicitDeny", ["resourcePolicy/0/0"],
    "a `${` never closed in a condition value is an error: the Deny fails closed",
    ["/resourcePolicy/Statement/0/Condition/StringNotEquals/aws:PrincipalTag~1team/0"],
    resourcePolicy=pol(deny(principal="*", condition={"StringNotEquals": {"aws:PrincipalTag/team": "${aws:username"}})))
bad("no-statement", "ExplicitDeny", ["resourcePolicy/0/0"], "a policy without `Statement` cannot be read: it fails closed",
    ["/resourcePolicy"], resourcePolicy={"Version": "2012-10-17"})
bad("percent-encoded", "Allowed", ["identity/0/0"], "a percent-encoded document (as IAM returns it) is decoded", [],
    identity=["%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3APutObject%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Adoc-example-bucket%2F%2A%22%7D%5D%7D"])
bad("string-document", "Allowed", ["identity/0/0"], "a document given as a JSON string", [],
    identity=[json.dumps(PUT_ALLOW)])
bad("principal-in-identity", "ImplicitDeny", [], "a Principal in an identity policy is an error",
    ["/identityPolicies/0/Statement/0/Principal"], identity=[pol(allow(principal="*"))], classification="NoAllow")
bad("wildcard-principal-arn", "ImplicitDeny", [], "principal ARNs take no wildcards",
    ["/resourcePolicy/Statement/0/Principal/AWS/0"], identity=NOID,
    resourcePolicy=pol(allow(principal={"AWS": f"arn:aws:iam::{A}:role/upload*"})), classification="NoAllow")
bad("missing-principal-in-bucket-policy", "ImplicitDeny", [], "a bucket policy statement needs a Principal",
    ["/resourcePolicy/Statement/0"], identity=NOID, resourcePolicy=pol(allow()), classification="NoAllow")
bad("number-condition-value", "Allowed", ["identity/0/0"], "numbers in condition values are taken as text", [],
    context={"s3:max-keys": "10"}, identity=[pol(allow(condition={"NumericLessThanEquals": {"s3:max-keys": 10}}))])
bad("bad-numeric-value", "ImplicitDeny", [], "a NumericLessThan value that is not a number",
    ["/identityPolicies/0/Statement/0/Condition/NumericLessThan/s3:TlsVersion/0"],
    context={"s3:TlsVersion": "1.2"}, identity=[pol(allow(condition={"NumericLessThan": {"s3:TlsVersion": "one"}}))],
    classification="NoAllow")
bad("bad-cidr", "ExplicitDeny", ["resourcePolicy/0/0"], "a Deny with an invalid CIDR is treated as applying",
    ["/resourcePolicy/Statement/0/Condition/NotIpAddress/aws:SourceIp/0"], context={"aws:SourceIp": "54.240.143.7"},
    resourcePolicy=pol(deny(principal="*", condition={"NotIpAddress": {"aws:SourceIp": "54.240.143.0/33"}})))
bad("statement-not-object", "ExplicitDeny", ["identity/0/0"],
    "a statement that is not an object is reported and, since it could be a Deny, fails closed",
    ["/identityPolicies/0/Statement/0"], identity=[{"Version": "2012-10-17", "Statement": ["oops", allow()]}])
bad("missing-action", "ImplicitDeny", [], "a statement without Action", ["/identityPolicies/0/Statement/0"],
    identity=[pol(allow(action=None))], classification="NoAllow")
bad("malformed-resource-arn", "ImplicitDeny", [], "a five-part ARN resource matches nothing and is reported",
    ["/identityPolicies/0/Statement/0/Resource/0"], identity=[pol(allow(resource="arn:aws:s3:doc-example-bucket/*"))],
    classification="NoAllow")
bad("unknown-version", "Allowed", ["identity/0/0"], "an unknown Version is reported; the statement still evaluates",
    ["/identityPolicies/0/Version"], identity=[pol(allow(), version="2020-01-01")])
bad("null-with-ifexists", "ImplicitDeny", [], "Null takes no IfExists",
    ["/identityPolicies/0/Statement/0/Condition/NullIfExists"],
    identity=[pol(allow(condition={"NullIfExists": {"s3:x-amz-acl": "true"}}))], classification="NoAllow")

def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases")
    names = set()
    for group, c in CASES:
        if c["name"] in names:
            sys.exit(f"duplicate case name {c['name']}")
        names.add(c["name"])
        os.makedirs(os.path.join(out, group), exist_ok=True)
        with open(os.path.join(out, group, c["name"] + ".json"), "w") as f:
            json.dump(c, f, indent=2)
            f.write("\n")
    print(f"{len(CASES)} cases")

if __name__ == "__main__":
    main()
