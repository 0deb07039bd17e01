#!/usr/bin/env python3
"""Authoring aid for tests/scenarios: each scenario below is a snapshot written by hand with the verdict, the
error cause ids, the denied actions and the remediation text it must produce. The JSON files are the source of
truth and are committed; rerun this only to add scenarios."""
import copy, json, os, sys

A, B = "111122223333", "444455556666"
ROLE = f"arn:aws:iam::{A}:role/uploader"
XROLE = f"arn:aws:iam::{B}:role/partner-uploader"
BUCKET = "doc-example-bucket"
OBJS = f"arn:aws:s3:::{BUCKET}/*"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
XKEY = f"arn:aws:kms:us-east-1:{B}:key/0987dcba-09fe-87dc-65ba-ab0987654321"
CANON = "id=79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"

def doc(*statements): return {"Version": "2012-10-17", "Statement": list(statements)}
def st(effect, action="s3:PutObject", resource=OBJS, **kw):
    s = {"Effect": effect, "Action": action, "Resource": resource}
    for k, v in kw.items():
        s[{"sid": "Sid", "principal": "Principal", "condition": "Condition", "not_principal": "NotPrincipal"}.get(k, k)] = v
    if "Sid" in s: s = {"Sid": s.pop("Sid"), **s}
    return s
def pol(name, d): return {"id": f"arn:aws:iam::{A}:policy/{name}", "name": name, "source": "managed", "document": d}
PUT = doc(st("Allow", sid="AllowUpload"))
PUT_ACL = doc(st("Allow", ["s3:PutObject", "s3:PutObjectAcl"], sid="AllowUploadWithAcl"))
KMS_ID = doc(st("Allow", ["kms:GenerateDataKey", "kms:Decrypt"], KEY, sid="AllowKey"))
KP_DELEGATE = doc(st("Allow", "kms:*", "*", principal={"AWS": f"arn:aws:iam::{A}:root"}, sid="EnableIAMPolicies"))
FULL = {"id": "p-FullAWSAccess", "name": "FullAWSAccess", "document": doc(st("Allow", "*", "*"))}
RCP_FULL = {"id": "p-RCPFullAWSAccess", "name": "RCPFullAWSAccess", "document": doc(st("Allow", "*", "*", principal="*"))}

def key(arn=KEY, account=A, policy=KP_DELEGATE, **kw):
    k = {"arn": arn, "accountId": account, "region": "us-east-1", "aliases": [], "keyManager": "CUSTOMER",
         "keyState": "Enabled", "keySpec": "SYMMETRIC_DEFAULT", "policy": policy, "grants": []}
    k.update(kw)
    return k

def snap(*, principal=ROLE, identity=(PUT,), boundary=None, session=None, tags=None, upload=None, network=None,
         bucket_account=A, bucket_policy=None, ownership="BucketOwnerEnforced", pab=None, account_pab=None,
         encryption=None, requester_pays=False, vpce=None, keys=(), org=None, unavailable=(), skip=(),
         actions=None, context=None, no_principal=False, no_bucket=False):
    acct = principal.split(":")[4]
    req = {"principalArn": principal, "bucket": BUCKET, "key": "uploads/examplefile.jpg"}
    if actions: req["actions"] = actions
    req["upload"] = upload or {}
    req["network"] = network or {}
    if context: req["context"] = context
    if skip: req["skipLayers"] = list(skip)
    s = {"version": 1, "request": req}
    if not no_principal:
        s["principal"] = {"arn": principal, "accountId": acct, "kind": "user" if ":user/" in principal else "role",
                          "uniqueId": "AROAEXAMPLEID", "tags": tags or {},
                          "policies": [pol(f"Policy{i}", d) for i, d in enumerate(identity)],
                          "permissionsBoundary": {"id": f"arn:aws:iam::{acct}:policy/Boundary", "name": "Boundary", "document": boundary} if boundary else None,
                          "sessionPolicy": session}
    s["organization"] = org
    if not no_bucket:
        s["bucket"] = {"name": BUCKET, "accountId": bucket_account, "region": "us-east-1", "policy": bucket_policy,
                       "ownership": ownership, "publicAccessBlock": pab, "accountPublicAccessBlock": account_pab,
                       "encryption": encryption, "objectLockEnabled": False, "requesterPays": requester_pays}
    s["vpcEndpoint"] = vpce
    s["kmsKeys"] = list(keys)
    s["unavailable"] = list(unavailable)
    s["collectedAt"] = "2026-11-28T10:00:00Z"
    return s

SCENARIOS = []
def scenario(name, description, snapshot, verdict, causes=(), denied=(), fix=(), warnings=None, unknown=None, assumptions=None):
    expect = {"verdict": verdict, "causes": sorted(causes), "deniedActions": sorted(denied), "fix": list(fix)}
    if warnings is not None: expect["warnings"] = sorted(warnings)
    if unknown is not None: expect["unknownLayers"] = sorted(unknown)
    if assumptions is not None: expect["assumptionLayers"] = sorted(assumptions)
    SCENARIOS.append({"name": name, "description": description, "snapshot": snapshot, "expect": expect})

def twin(name, description, denied_snap, allowed_snap, causes, denied, fix, warnings_allowed=None):
    scenario(f"{name}-denied", description, denied_snap, "Denied", causes, denied, fix)
    scenario(f"{name}-fixed", description + " (fixed)", allowed_snap, "Allowed", warnings=warnings_allowed or [])

# ------------------------------------------------------------------------------------------------ the seed article
twin("seed-put-object-acl", "the uploader sends an ACL but may not s3:PutObjectAcl",
     snap(upload={"acl": "private"}, ownership="BucketOwnerPreferred"),
     snap(upload={"acl": "private"}, ownership="BucketOwnerPreferred", identity=[PUT_ACL]),
     ["IDENTITY_NO_PUT_OBJECT_ACL"], ["s3:PutObjectAcl"], ["s3:PutObjectAcl", "aws s3api put-object --bucket doc-example-bucket --key uploads/examplefile.jpg --body <FILE>"])

XB = dict(principal=XROLE)
def seed_condition(slug, key, allow_cond, deny_cond, good_upload, bad_upload, flag, extra_allowed=None, good_network=None, bad_network=None, ownership="BucketOwnerEnforced", identity=(PUT,), actions=("s3:PutObject",)):
    cause = {"source-ip": "BUCKET_POLICY_CONDITION_SOURCE_IP", "storage-class": "BUCKET_POLICY_CONDITION_STORAGE_CLASS",
             "acl": "BUCKET_POLICY_CONDITION_ACL_REQUIRED", "grant-full-control": "BUCKET_POLICY_CONDITION_ACL_REQUIRED",
             "kms-key-id": "BUCKET_POLICY_CONDITION_KMS_KEY_ID", "sse": "BUCKET_POLICY_CONDITION_SSE_REQUIRED"}[slug]
    extra = extra_allowed or {}
    allow_bp = doc(st("Allow", list(actions), principal={"AWS": XROLE}, condition=allow_cond, sid="AllowWithCondition"))
    twin(f"seed-{slug}-allow-condition", f"cross-account; the bucket policy allows only with a condition on {key}",
         snap(upload=bad_upload, network=bad_network, bucket_policy=allow_bp, ownership=ownership, identity=identity, **XB, **extra),
         snap(upload=good_upload, network=good_network, bucket_policy=allow_bp, ownership=ownership, identity=identity, **XB, **extra),
         [cause], ["s3:PutObject"], [flag])
    deny_bp = doc(st("Deny", "s3:PutObject", principal="*", condition=deny_cond, sid="DenyWithCondition"))
    twin(f"seed-{slug}-deny-condition", f"same account; the bucket policy denies uploads that fail a condition on {key}",
         snap(upload=bad_upload, network=bad_network, bucket_policy=deny_bp, ownership=ownership, identity=identity, **extra),
         snap(upload=good_upload, network=good_network, bucket_policy=deny_bp, ownership=ownership, identity=identity, **extra),
         [cause], ["s3:PutObject"], [flag])

seed_condition("source-ip", "aws:SourceIp", {"IpAddress": {"aws:SourceIp": "54.240.143.0/24"}}, {"NotIpAddress": {"aws:SourceIp": "54.240.143.0/24"}},
               {}, {}, "54.240.143.0/24", good_network={"sourceIp": "54.240.143.7"}, bad_network={"sourceIp": "203.0.113.9"})
seed_condition("storage-class", "s3:x-amz-storage-class", {"StringEquals": {"s3:x-amz-storage-class": ["STANDARD_IA"]}},
               {"StringNotEquals": {"s3:x-amz-storage-class": ["STANDARD_IA"]}}, {"storageClass": "STANDARD_IA"}, {}, "--storage-class STANDARD_IA")
seed_condition("acl", "s3:x-amz-acl", {"StringEquals": {"s3:x-amz-acl": ["bucket-owner-full-control"]}},
               {"StringNotEquals": {"s3:x-amz-acl": ["bucket-owner-full-control"]}}, {"acl": "bucket-owner-full-control"}, {},
               "--acl bucket-owner-full-control", identity=(PUT_ACL,), actions=("s3:PutObject", "s3:PutObjectAcl"))
seed_condition("grant-full-control", "s3:x-amz-grant-full-control", {"StringEquals": {"s3:x-amz-grant-full-control": CANON}},
               {"StringNotEquals": {"s3:x-amz-grant-full-control": CANON}}, {"grantFullControl": CANON}, {},
               f"--grant-full-control {CANON}", ownership="BucketOwnerPreferred", identity=(PUT_ACL,), actions=("s3:PutObject", "s3:PutObjectAcl"))
KMS_OK = dict(keys=[key(policy=doc(st("Allow", "kms:*", "*", principal={"AWS": f"arn:aws:iam::{A}:root"}, sid="EnableIAMPolicies"),
                                 st("Allow", ["kms:GenerateDataKey", "kms:Decrypt"], "*", principal={"AWS": XROLE}, sid="AllowPartner")))])
seed_condition("kms-key-id", "s3:x-amz-server-side-encryption-aws-kms-key-id",
               {"StringEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": KEY}},
               {"StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": KEY}},
               {"serverSideEncryption": "aws:kms", "sseKmsKeyId": KEY}, {}, f"--server-side-encryption aws:kms --ssekms-key-id {KEY}",
               extra_allowed=KMS_OK, identity=(PUT, doc(st("Allow", ["kms:GenerateDataKey", "kms:Decrypt"], "*"))))
seed_condition("sse", "s3:x-amz-server-side-encryption", {"StringEquals": {"s3:x-amz-server-side-encryption": "AES256"}},
               {"StringNotEquals": {"s3:x-amz-server-side-encryption": "AES256"}}, {"serverSideEncryption": "AES256"}, {},
               "--server-side-encryption AES256")

VPCE_NET = {"vpcEndpointId": "vpce-1a2b3c4d", "vpcId": "vpc-0abc1234"}
def vpce(policy): return {"id": "vpce-1a2b3c4d", "vpcId": "vpc-0abc1234", "serviceName": "com.amazonaws.us-east-1.s3", "type": "Gateway", "policy": policy}
ONLY_OTHER = doc(st("Allow", "s3:PutObject", "arn:aws:s3:::other-bucket/*", principal="*", sid="Access-to-specific-bucket-only"))
THIS_BUCKET = doc(st("Allow", "s3:PutObject", OBJS, principal="*", sid="Access-to-specific-bucket-only"))
THIS_BUCKET_ACL = doc(st("Allow", ["s3:PutObject", "s3:PutObjectAcl"], OBJS, principal="*", sid="Access-to-specific-bucket-only"))
twin("seed-vpce-other-bucket", "the VPC endpoint policy allows only another bucket",
     snap(network=VPCE_NET, vpce=vpce(ONLY_OTHER)), snap(network=VPCE_NET, vpce=vpce(THIS_BUCKET)),
     ["VPCE_POLICY_NO_ALLOW"], ["s3:PutObject"], ["aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-1a2b3c4d", OBJS])
twin("seed-vpce-no-put-object-acl", "the VPC endpoint policy allows PutObject but not PutObjectAcl, and the upload sends an ACL",
     snap(network=VPCE_NET, vpce=vpce(THIS_BUCKET), upload={"acl": "private"}, ownership="BucketOwnerPreferred", identity=[PUT_ACL]),
     snap(network=VPCE_NET, vpce=vpce(THIS_BUCKET_ACL), upload={"acl": "private"}, ownership="BucketOwnerPreferred", identity=[PUT_ACL]),
     ["VPCE_POLICY_NO_ALLOW"], ["s3:PutObjectAcl"], ["s3:PutObjectAcl"])
SSE_KMS = {"serverSideEncryption": "aws:kms", "sseKmsKeyId": KEY}
twin("seed-kms-identity", "the key policy delegates to IAM, and IAM does not allow the key",
     snap(upload=SSE_KMS, keys=[key()]), snap(upload=SSE_KMS, keys=[key()], identity=[PUT, KMS_ID]),
     ["KMS_IDENTITY_NO_ALLOW"], ["kms:GenerateDataKey"], ["kms:GenerateDataKey", KEY],
     )
twin("seed-kms-key-policy", "the key policy neither names the role nor delegates to IAM",
     snap(upload=SSE_KMS, keys=[key(policy=doc(st("Allow", "kms:*", "*", principal={"AWS": f"arn:aws:iam::{A}:role/KeyAdmin"})))], identity=[PUT, KMS_ID]),
     snap(upload=SSE_KMS, keys=[key(policy=doc(st("Allow", "kms:*", "*", principal={"AWS": f"arn:aws:iam::{A}:role/KeyAdmin"}),
                                               st("Allow", ["kms:GenerateDataKey", "kms:Decrypt"], "*", principal={"AWS": ROLE})))], identity=[PUT]),
     ["KMS_KEY_POLICY_NO_ALLOW"], ["kms:GenerateDataKey"], ["kms:ViaService", "s3.us-east-1.amazonaws.com", ROLE])
XSSE = {"serverSideEncryption": "aws:kms", "sseKmsKeyId": XKEY}
XKEY_IAM = doc(st("Allow", ["kms:GenerateDataKey", "kms:Decrypt"], XKEY))
twin("seed-kms-cross-account-key", "the key belongs to another account whose key policy does not name the caller's account",
     snap(upload=XSSE, identity=[PUT, XKEY_IAM], keys=[key(XKEY, B, doc(st("Allow", "kms:*", "*", principal={"AWS": f"arn:aws:iam::{B}:root"})))]),
     snap(upload=XSSE, identity=[PUT, XKEY_IAM], keys=[key(XKEY, B, doc(st("Allow", "kms:*", "*", principal={"AWS": f"arn:aws:iam::{B}:root"}),
                                                                     st("Allow", ["kms:GenerateDataKey", "kms:Decrypt"], "*", principal={"AWS": f"arn:aws:iam::{A}:root"})))]),
     ["KMS_CROSS_ACCOUNT_KEY_POLICY_MISSING"], ["kms:GenerateDataKey"], [ROLE, "kms:GenerateDataKey"])
XBP = doc(st("Allow", "s3:PutObject", principal={"AWS": XROLE}, sid="AllowPartner"))
twin("seed-kms-aws-managed-cross-account", "the bucket default is aws:kms with the aws/s3 key, and the uploader is in another account",
     snap(principal=XROLE, bucket_policy=XBP, encryption={"sseAlgorithm": "aws:kms", "bucketKeyEnabled": False}),
     snap(principal=XROLE, bucket_policy=XBP, encryption={"sseAlgorithm": "aws:kms", "bucketKeyEnabled": False},
          upload=SSE_KMS, identity=[PUT, doc(st("Allow", ["kms:GenerateDataKey", "kms:Decrypt"], KEY))],
          keys=[key(policy=doc(st("Allow", ["kms:GenerateDataKey", "kms:Decrypt"], "*", principal={"AWS": f"arn:aws:iam::{B}:root"})))]),
     ["KMS_AWS_MANAGED_KEY_CROSS_ACCOUNT"], ["kms:GenerateDataKey"], ["--ssekms-key-id", "put-bucket-encryption"])
GDK_ONLY = doc(st("Allow", "kms:GenerateDataKey", KEY))
twin("seed-kms-decrypt-multipart", "a multipart SSE-KMS upload; IAM allows kms:GenerateDataKey but not kms:Decrypt",
     snap(upload={**SSE_KMS, "multipart": True}, identity=[PUT, GDK_ONLY], keys=[key()]),
     snap(upload={**SSE_KMS, "multipart": True}, identity=[PUT, KMS_ID], keys=[key()]),
     ["KMS_NO_DECRYPT_FOR_MULTIPART"], ["kms:Decrypt"], ["kms:Decrypt", "multipart_threshold"])
BK = {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY, "bucketKeyEnabled": True}
twin("seed-kms-decrypt-bucket-key", "the bucket encrypts by default with an S3 Bucket Key; IAM allows kms:GenerateDataKey but not kms:Decrypt",
     snap(encryption=BK, identity=[PUT, GDK_ONLY], keys=[key()]), snap(encryption=BK, identity=[PUT, KMS_ID], keys=[key()]),
     ["KMS_NO_DECRYPT_FOR_BUCKET_KEY"], ["kms:Decrypt"], ["kms:Decrypt"])

# ------------------------------------------------------------------------------------------------ identity layer
scenario("identity-no-allow", "the role has no policy", snap(identity=[]), "Denied", ["IDENTITY_NO_ALLOW"], ["s3:PutObject"], ['"s3:PutObject"', OBJS])
scenario("identity-wrong-resource", "the Allow names the bucket ARN, not its objects",
         snap(identity=[doc(st("Allow", resource=f"arn:aws:s3:::{BUCKET}", sid="BucketOnly"))]), "Denied", ["IDENTITY_WRONG_RESOURCE_ARN"], ["s3:PutObject"], [OBJS])
scenario("identity-condition-unmet", "the Allow requires a region the bucket is not in",
         snap(identity=[doc(st("Allow", condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}, sid="EuOnly"))]),
         "Denied", ["IDENTITY_CONDITION_UNMET"], ["s3:PutObject"], ["us-east-1"])
scenario("identity-explicit-deny", "an identity policy denies s3:Put*", snap(identity=[PUT, doc(st("Deny", "s3:Put*", "*", sid="NoWrites"))]),
         "Denied", ["IDENTITY_EXPLICIT_DENY"], ["s3:PutObject"], ["NoWrites"])
scenario("identity-no-put-object-tagging", "the upload sends tags; s3:PutObjectTagging is not allowed", snap(upload={"tags": {"team": "media"}}),
         "Denied", ["IDENTITY_NO_PUT_OBJECT_TAGGING"], ["s3:PutObjectTagging"], ["s3:PutObjectTagging"])
scenario("identity-no-object-lock", "the upload sets Object Lock retention; s3:PutObjectRetention is not allowed",
         snap(upload={"objectLockMode": "GOVERNANCE", "objectLockRetainUntilDate": "2030-01-01T00:00:00Z"}),
         "Denied", ["IDENTITY_NO_OBJECT_LOCK_PERMISSION"], ["s3:PutObjectRetention"], ["s3:PutObjectRetention"])
scenario("resource-perimeter-deny", "an identity policy denies buckets outside the organization's accounts",
         snap(identity=[PUT, doc(st("Deny", "s3:*", "*", condition={"StringNotEquals": {"aws:ResourceAccount": [B]}}, sid="OnlyOurBuckets"))]),
         "Denied", ["RESOURCE_PERIMETER_DENY"], ["s3:PutObject"], ["OnlyOurBuckets"])
scenario("boundary-no-allow", "the permissions boundary allows only reads", snap(boundary=doc(st("Allow", "s3:Get*", "*"))),
         "Denied", ["PERMISSION_BOUNDARY_NO_ALLOW"], ["s3:PutObject"], ["permissions boundary"])
scenario("boundary-explicit-deny", "the permissions boundary denies uploads",
         snap(boundary=doc(st("Allow", "*", "*"), st("Deny", "s3:PutObject", "*", sid="BoundaryDeny"))),
         "Denied", ["PERMISSION_BOUNDARY_EXPLICIT_DENY"], ["s3:PutObject"], ["BoundaryDeny"])
scenario("session-no-allow", "the session policy allows only reads", snap(session=doc(st("Allow", "s3:GetObject", "*"))),
         "Denied", ["SESSION_POLICY_NO_ALLOW"], ["s3:PutObject"], ["session policy"])
scenario("session-explicit-deny", "the session policy denies uploads", snap(session=doc(st("Allow", "*", "*"), st("Deny", "s3:PutObject", "*"))),
         "Denied", ["SESSION_POLICY_EXPLICIT_DENY"], ["s3:PutObject"], ["session-policy"])
scenario("principal-tag-mismatch", "the Allow requires the role's team tag to be media; it is finance",
         snap(tags={"team": "finance"}, identity=[doc(st("Allow", condition={"StringEquals": {"aws:PrincipalTag/team": "media"}}, sid="MediaTeam"))]),
         "Denied", ["PRINCIPAL_TAG_CONDITION_MISMATCH"], ["s3:PutObject"], ["aws:PrincipalTag/team"])
scenario("mfa-condition", "the Allow requires MFA, which a workload session never has",
         snap(identity=[doc(st("Allow", condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}, sid="NeedsMfa"))]),
         "Denied", ["MFA_CONDITION"], ["s3:PutObject"], ["aws:MultiFactorAuthPresent"])

# ------------------------------------------------------------------------------------------------ organizations
def org(scps=None, rcps=None, id="o-abc123"): return {"id": id, "scps": scps or [], "rcps": rcps or []}
scenario("scp-explicit-deny", "an SCP denies s3:PutObject", snap(org=org([[FULL], [FULL, {"id": "p-deny", "name": "DenyPut", "document": doc(st("Deny", "s3:PutObject", "*", sid="NoPut"))}]])),
         "Denied", ["SCP_EXPLICIT_DENY"], ["s3:PutObject"], ["NoPut"])
scenario("scp-no-allow", "the OU's SCPs allow only EC2", snap(org=org([[FULL], [{"id": "p-ec2", "name": "Ec2Only", "document": doc(st("Allow", "ec2:*", "*"))}]])),
         "Denied", ["SCP_NO_ALLOW"], ["s3:PutObject"], ["level 1"])
scenario("scp-region-deny", "an SCP denies every region but eu-west-1",
         snap(org=org([[FULL, {"id": "p-region", "name": "RegionLock", "document": doc(st("Deny", "*", "*", condition={"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}, sid="RegionLock"))}]])),
         "Denied", ["SCP_REGION_DENY"], ["s3:PutObject"], ["RegionLock"])
scenario("rcp-explicit-deny", "an RCP denies callers outside the organization",
         snap(principal=XROLE, bucket_policy=XBP, org=org(rcps=[[RCP_FULL, {"id": "p-perimeter", "name": "Perimeter", "document": doc(
             st("Deny", "s3:*", "*", principal="*", condition={"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}}, sid="IdentityPerimeter"))}]], id="o-other")),
         "Denied", ["RCP_EXPLICIT_DENY_S3"], ["s3:PutObject"], ["IdentityPerimeter"])
scenario("rcp-level-holds-full-access", "an RCP level without a listed Allow still holds RCPFullAWSAccess: only RCP denies deny",
         snap(org=org(rcps=[[{"id": "p-x", "name": "X", "document": doc(st("Deny", "sqs:*", "*", principal="*"))}]])),
         "Allowed", [], [], [])

# ------------------------------------------------------------------------------------------------ bucket policy
scenario("bucket-explicit-deny", "the bucket policy denies everyone", snap(bucket_policy=doc(st("Deny", "s3:*", [OBJS], principal="*", sid="Lockdown"))),
         "Denied", ["BUCKET_POLICY_EXPLICIT_DENY"], ["s3:PutObject"], ["Lockdown"])
scenario("bucket-no-allow-cross-account", "a role of another account and no bucket policy", snap(principal=XROLE),
         "Denied", ["BUCKET_POLICY_NO_ALLOW_CROSS_ACCOUNT"], ["s3:PutObject"], [XROLE, "s3:AbortMultipartUpload"])
scenario("bucket-principal-mismatch", "the bucket policy names another role of the caller's account",
         snap(principal=XROLE, bucket_policy=doc(st("Allow", principal={"AWS": f"arn:aws:iam::{B}:role/other-role"}, sid="Partner"))),
         "Denied", ["BUCKET_POLICY_PRINCIPAL_MISMATCH"], ["s3:PutObject"], [XROLE])
scenario("bucket-principal-stale-id", "the bucket policy shows the unique id of a deleted role",
         snap(principal=XROLE, bucket_policy=doc(st("Allow", principal={"AWS": "AROAEXAMPLEDELETED01"}, sid="Partner"))),
         "Denied", ["BUCKET_POLICY_PRINCIPAL_STALE_UNIQUE_ID"], ["s3:PutObject"], [XROLE])
scenario("bucket-account-principal-same-account", "same account: the bucket policy names the account and IAM grants nothing",
         snap(identity=[], bucket_policy=doc(st("Allow", principal={"AWS": f"arn:aws:iam::{A}:root"}, sid="Account"))),
         "Denied", ["IDENTITY_NO_ALLOW", "BUCKET_POLICY_ACCOUNT_PRINCIPAL_SAME_ACCOUNT"], ["s3:PutObject"], [ROLE])
scenario("same-account-role-grant-bounded", "same account: the bucket policy grants the role ARN, the boundary does not allow",
         snap(identity=[], boundary=doc(st("Allow", "s3:GetObject", "*")), bucket_policy=doc(st("Allow", principal={"AWS": ROLE}, sid="GrantRole"))),
         "Denied", ["PERMISSION_BOUNDARY_NO_ALLOW", "SAME_ACCOUNT_ROLE_ARN_GRANT_BOUNDED"], ["s3:PutObject"], ["aws:PrincipalArn"])
scenario("bucket-notprincipal-deny", "Deny with NotPrincipal listing only the role",
         snap(bucket_policy=doc(st("Deny", "s3:*", OBJS, not_principal={"AWS": [ROLE]}, sid="OnlyUploader"))),
         "Denied", ["BUCKET_POLICY_NOTPRINCIPAL_DENY"], ["s3:PutObject"], ["ArnNotEquals", "aws:PrincipalArn"])
scenario("bucket-resource-mismatch", "cross-account; the bucket policy allows another prefix",
         snap(principal=XROLE, bucket_policy=doc(st("Allow", resource=f"arn:aws:s3:::{BUCKET}/reports/*", principal={"AWS": XROLE}, sid="Reports"))),
         "Denied", ["BUCKET_POLICY_RESOURCE_MISMATCH"], ["s3:PutObject"], [OBJS])
scenario("bucket-source-vpce", "the bucket policy denies requests not through the VPC endpoint",
         snap(bucket_policy=doc(st("Deny", "s3:*", OBJS, principal="*", condition={"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}, sid="VpceOnly"))),
         "Denied", ["BUCKET_POLICY_CONDITION_SOURCE_VPCE"], ["s3:PutObject"], ["send the upload through VPC endpoint `vpce-1a2b3c4d`", "gateway endpoint", "<DNS-NAME-OF-vpce-1a2b3c4d>"])
scenario("bucket-source-ip-through-vpce", "through a VPC endpoint there is no aws:SourceIp, so NotIpAddress denies",
         snap(network=VPCE_NET, vpce=vpce(None), bucket_policy=doc(st("Deny", "s3:*", OBJS, principal="*", condition={"NotIpAddress": {"aws:SourceIp": "54.240.143.0/24"}}, sid="IPDeny"))),
         "Denied", ["BUCKET_POLICY_CONDITION_SOURCE_IP"], ["s3:PutObject"], ["no `aws:SourceIp`"])
scenario("bucket-tls", "the bucket policy denies plain HTTP", snap(network={"secureTransport": False},
         bucket_policy=doc(st("Deny", "s3:*", OBJS, principal="*", condition={"Bool": {"aws:SecureTransport": "false"}}, sid="HttpsOnly"))),
         "Denied", ["BUCKET_POLICY_CONDITION_TLS"], ["s3:PutObject"], ["HTTPS"])
scenario("bucket-principal-org", "the bucket policy denies callers outside the organization; the caller's account is in another",
         snap(principal=XROLE, org=org(id="o-other"), bucket_policy=doc(st("Allow", principal={"AWS": XROLE}, sid="Partner"),
              st("Deny", "s3:*", OBJS, principal="*", condition={"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}, sid="OrgOnly"))),
         "Denied", ["BUCKET_POLICY_CONDITION_PRINCIPAL_ORG"], ["s3:PutObject"], ["OrgOnly"])
scenario("bucket-object-tags", "the bucket policy denies uploads without a team tag",
         snap(bucket_policy=doc(st("Deny", "s3:PutObject", OBJS, principal="*", condition={"Null": {"s3:RequestObjectTag/team": "true"}}, sid="NeedTeamTag"))),
         "Denied", ["BUCKET_POLICY_CONDITION_OBJECT_TAGS"], ["s3:PutObject"], ["NeedTeamTag"])
scenario("bucket-conditional-writes", "the bucket policy denies uploads without If-None-Match",
         snap(bucket_policy=doc(st("Deny", "s3:PutObject", OBJS, principal="*", condition={"Null": {"s3:if-none-match": "true"}}, sid="NoOverwrite"))),
         "Denied", ["BUCKET_POLICY_CONDITIONAL_WRITES"], ["s3:PutObject"], ["NoOverwrite"])
scenario("bucket-access-point-only", "the bucket policy allows object writes only through access points of its account",
         snap(bucket_policy=doc(st("Deny", "s3:*", OBJS, principal="*", condition={"StringNotEquals": {"s3:DataAccessPointAccount": A}}, sid="ApOnly"))),
         "Denied", ["BUCKET_POLICY_ACCESS_POINT_ONLY"], ["s3:PutObject"], ["ApOnly"])
scenario("bucket-signature", "the bucket policy denies header-signed requests (presigned URLs only)",
         snap(bucket_policy=doc(st("Deny", "s3:PutObject", OBJS, principal="*", condition={"StringEquals": {"s3:authType": "REST-HEADER"}}, sid="PresignedOnly"))),
         "Denied", ["BUCKET_POLICY_CONDITION_SIGNATURE"], ["s3:PutObject"], ["PresignedOnly"])
scenario("bucket-object-lock-condition", "the bucket policy denies retention longer than allowed",
         snap(identity=[doc(st("Allow", ["s3:PutObject", "s3:PutObjectRetention"]))], upload={"objectLockMode": "COMPLIANCE", "objectLockRetainUntilDate": "2030-01-01T00:00:00Z"},
              bucket_policy=doc(st("Deny", "s3:PutObjectRetention", OBJS, principal="*", condition={"StringEquals": {"s3:object-lock-mode": "COMPLIANCE"}}, sid="NoCompliance"))),
         "Denied", ["BUCKET_POLICY_CONDITION_OBJECT_LOCK"], ["s3:PutObjectRetention"], ["NoCompliance"])
scenario("bucket-abac-tag", "cross-account; the bucket policy allows only if the bucket carries a tag it lacks",
         snap(principal=XROLE, bucket_policy=doc(st("Allow", principal={"AWS": XROLE}, condition={"StringEquals": {"aws:ResourceTag/env": "prod"}}, sid="ProdOnly"))),
         "Denied", ["BUCKET_POLICY_ABAC_TAG_CONDITION"], ["s3:PutObject"], ["ProdOnly"])

# ------------------------------------------------------------------------------------------------ ownership, BPA, VPCE, request-level
scenario("ownership-enforced-acl", "ACLs are disabled and the upload sends public-read", snap(upload={"acl": "public-read"}, identity=[PUT_ACL]),
         "Denied", ["OWNERSHIP_ENFORCED_ACL"], [], ["put-bucket-ownership-controls", "aws s3api put-object --bucket doc-example-bucket --key uploads/examplefile.jpg --body <FILE>"])
scenario("ownership-enforced-bofc-ok", "ACLs are disabled; bucket-owner-full-control is still accepted",
         snap(upload={"acl": "bucket-owner-full-control"}, identity=[PUT_ACL]), "Allowed", warnings=[])
scenario("bpa-block-public-acls", "BlockPublicAcls on the account and a public ACL", snap(upload={"acl": "public-read"}, ownership="BucketOwnerPreferred", identity=[PUT_ACL],
         account_pab={"blockPublicAcls": True, "ignorePublicAcls": True, "blockPublicPolicy": True, "restrictPublicBuckets": True}),
         "Denied", ["BPA_BLOCK_PUBLIC_ACLS"], [], ["drop the public ACL"])
scenario("bpa-restrict-public-buckets", "cross-account; the bucket policy is public and RestrictPublicBuckets is on",
         snap(principal=XROLE, bucket_policy=doc(st("Allow", principal="*", sid="Everyone")), pab={"blockPublicAcls": False, "ignorePublicAcls": False, "blockPublicPolicy": False, "restrictPublicBuckets": True}),
         "Denied", ["BPA_RESTRICT_PUBLIC_BUCKETS"], [], ["non-public"])
scenario("vpce-explicit-deny", "the VPC endpoint policy denies the bucket", snap(network=VPCE_NET, vpce=vpce(doc(st("Allow", "*", "*", principal="*"), st("Deny", "s3:*", OBJS, principal="*", sid="NotThisBucket")))),
         "Denied", ["VPCE_POLICY_EXPLICIT_DENY"], ["s3:PutObject"], ["NotThisBucket"])
scenario("sse-c-blocked", "the bucket blocks SSE-C and the upload uses it", snap(upload={"sseCustomerAlgorithm": "AES256"},
         encryption={"sseAlgorithm": "AES256", "bucketKeyEnabled": False, "blockedEncryptionTypes": ["SSE-C"]}),
         "Denied", ["SSE_C_BLOCKED"], [], ["--server-side-encryption AES256"])
scenario("requester-pays", "cross-account upload to a Requester Pays bucket without the header", snap(principal=XROLE, bucket_policy=XBP, requester_pays=True),
         "Denied", ["REQUESTER_PAYS_HEADER_MISSING"], [], ["--request-payer requester"])
scenario("get-requester-pays", "a cross-account read of a Requester Pays bucket without the header",
         snap(principal=XROLE, actions=["GetObject"], identity=[doc(st("Allow", "s3:GetObject", OBJS))], requester_pays=True,
              bucket_policy=doc(st("Allow", "s3:GetObject", principal={"AWS": XROLE}, sid="PartnerReads"))),
         "Denied", ["GET_REQUESTER_PAYS"], [], ["get-object", "--request-payer requester"])
scenario("get-existing-object-tag", "reads are denied unless the object is tagged public, and the check cannot show the object's tags",
         snap(actions=["GetObject"], identity=[doc(st("Allow", "s3:GetObject", OBJS))],
              bucket_policy=doc(st("Deny", "s3:GetObject", OBJS, principal="*", sid="PublicOnly",
                                   condition={"StringNotEquals": {"s3:ExistingObjectTag/classification": "public"}}))),
         "Denied", ["GET_EXISTING_OBJECT_TAG_CONDITION"], ["s3:GetObject"], ["PublicOnly"])
scenario("requester-pays-ok", "the header is sent", snap(principal=XROLE, bucket_policy=XBP, requester_pays=True, upload={"requestPayer": True}), "Allowed", warnings=[])
scenario("expected-bucket-owner", "the upload expects another bucket owner", snap(upload={"expectedBucketOwner": B}),
         "Denied", ["EXPECTED_BUCKET_OWNER_MISMATCH"], [], [f"--expected-bucket-owner {A}"])

# ------------------------------------------------------------------------------------------------ KMS
scenario("kms-explicit-deny", "the key policy denies use outside S3 Bucket Keys",
         snap(upload=SSE_KMS, identity=[PUT, KMS_ID], keys=[key(policy=doc(KP_DELEGATE["Statement"][0], st("Deny", "kms:GenerateDataKey", "*", principal="*", sid="DenyGdk")))]),
         "Denied", ["KMS_EXPLICIT_DENY"], ["kms:GenerateDataKey"], ["DenyGdk"])
scenario("kms-via-service", "IAM allows the key only through S3 in another Region", snap(upload=SSE_KMS, keys=[key()],
         identity=[PUT, doc(st("Allow", ["kms:GenerateDataKey", "kms:Decrypt"], KEY, condition={"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}, sid="ViaS3"))]),
         "Denied", ["KMS_CONDITION_VIA_SERVICE"], ["kms:GenerateDataKey"], ["s3.us-east-1.amazonaws.com"])
scenario("kms-caller-account", "the key policy allows callers of another account only",
         snap(upload=SSE_KMS, identity=[PUT, KMS_ID], keys=[key(policy=doc(st("Allow", "kms:*", "*", principal={"AWS": "*"}, condition={"StringEquals": {"kms:CallerAccount": B}}, sid="AccountWide")))]),
         "Denied", ["KMS_CONDITION_CALLER_ACCOUNT"], ["kms:GenerateDataKey"], [A])
scenario("kms-encryption-context-bucket-key", "IAM allows the key only for object ARNs, and a Bucket Key makes the context the bucket ARN",
         snap(encryption=BK, keys=[key()], identity=[PUT, doc(st("Allow", ["kms:GenerateDataKey", "kms:Decrypt"], KEY,
              condition={"StringLike": {"kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{BUCKET}/*"}}, sid="ObjectContext"))]),
         "Denied", ["KMS_ENCRYPTION_CONTEXT_MISMATCH"], ["kms:Decrypt", "kms:GenerateDataKey"], [f"arn:aws:s3:::{BUCKET}"])
scenario("kms-key-policy-context-bucket-key", "the key policy grants the role for object ARNs only, a Bucket Key makes the context the bucket ARN, and IAM has no KMS grant: the context is the cause, not IAM",
         snap(encryption=BK, keys=[key(policy=doc(
             st("Allow", "kms:*", "*", principal={"AWS": f"arn:aws:iam::{A}:root"}, sid="EnableIAMPolicies"),
             st("Allow", ["kms:GenerateDataKey", "kms:Decrypt"], "*", principal={"AWS": ROLE}, sid="UploaderObjects",
                condition={"StringLike": {"kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{BUCKET}/*"}})))]),
         "Denied", ["KMS_ENCRYPTION_CONTEXT_MISMATCH"], ["kms:Decrypt", "kms:GenerateDataKey"], ["UploaderObjects", f"arn:aws:s3:::{BUCKET}"])
scenario("kms-network-condition-on-fas", "an identity Deny on KMS outside the office IP also hits S3's call to KMS",
         snap(upload=SSE_KMS, keys=[key()], network={"sourceIp": "54.240.143.7"},
              identity=[PUT, KMS_ID, doc(st("Deny", "kms:*", "*", condition={"NotIpAddress": {"aws:SourceIp": "54.240.143.0/24"}}, sid="OfficeOnly"))]),
         "Denied", ["KMS_NETWORK_CONDITION_ON_FAS"], ["kms:GenerateDataKey"], ["OfficeOnly"], warnings=["KMS_NETWORK_CONDITION_ON_FAS"])
scenario("kms-boundary", "the boundary allows S3 but not KMS", snap(upload=SSE_KMS, keys=[key()], identity=[PUT, KMS_ID], boundary=doc(st("Allow", "s3:*", "*"))),
         "Denied", ["KMS_BOUNDARY_OR_SESSION_NO_KMS"], ["kms:GenerateDataKey"], ["kms:GenerateDataKey"], warnings=["KMS_NO_DECRYPT_FOR_MULTIPART"])
scenario("kms-scp-deny", "an SCP denies kms:GenerateDataKey", snap(upload=SSE_KMS, keys=[key()], identity=[PUT, KMS_ID],
         org=org([[FULL, {"id": "p-nokms", "name": "NoKms", "document": doc(st("Deny", "kms:GenerateDataKey", "*", sid="NoKms"))}]])),
         "Denied", ["KMS_SCP_DENY"], ["kms:GenerateDataKey"], ["NoKms"])
scenario("kms-rcp-deny", "an RCP of the key's account denies KMS to callers outside the organization",
         snap(principal=XROLE, bucket_policy=XBP, upload=SSE_KMS, identity=[PUT, doc(st("Allow", ["kms:GenerateDataKey", "kms:Decrypt"], KEY))],
              keys=[key(policy=doc(st("Allow", "kms:*", "*", principal={"AWS": f"arn:aws:iam::{B}:root"})))],
              org=org(rcps=[[RCP_FULL, {"id": "p-kmsperim", "name": "KmsPerimeter", "document": doc(st("Deny", "kms:*", "*", principal="*",
                  condition={"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}}, sid="KmsPerimeter"))}]], id="o-other")),
         "Denied", ["KMS_RCP_DENY"], ["kms:GenerateDataKey"], ["KmsPerimeter"])
scenario("kms-key-disabled", "the key is disabled", snap(upload=SSE_KMS, identity=[PUT, KMS_ID], keys=[key(keyState="Disabled")]),
         "Denied", ["KMS_KEY_DISABLED"], [], ["aws kms enable-key"])
scenario("kms-key-pending-deletion", "the key is pending deletion", snap(upload=SSE_KMS, identity=[PUT, KMS_ID], keys=[key(keyState="PendingDeletion")]),
         "Denied", ["KMS_KEY_PENDING_DELETION_OR_UNAVAILABLE"], [], ["cancel-key-deletion"])
scenario("kms-key-wrong-region", "the key is in another Region than the bucket", snap(upload=SSE_KMS, identity=[PUT, KMS_ID], keys=[key(region="eu-west-1")]),
         "Denied", ["KMS_KEY_NOT_FOUND_OR_WRONG_REGION"], [], ["us-east-1"])
scenario("kms-key-not-found", "the key referenced does not exist", snap(upload=SSE_KMS, identity=[PUT, KMS_ID]),
         "Denied", ["KMS_KEY_NOT_FOUND_OR_WRONG_REGION"], [], ["full ARN"])
scenario("kms-key-not-symmetric", "the key is asymmetric", snap(upload=SSE_KMS, identity=[PUT, KMS_ID], keys=[key(keySpec="RSA_2048")]),
         "Denied", ["KMS_KEY_NOT_SYMMETRIC"], [], [])
scenario("kms-alias-in-caller-account", "the bucket default names the key by alias; the cross-account caller resolves it in its own account",
         snap(principal=XROLE, bucket_policy=XBP, identity=[PUT, doc(st("Allow", ["kms:GenerateDataKey", "kms:Decrypt"], KEY))],
              encryption={"sseAlgorithm": "aws:kms", "kmsMasterKeyId": "alias/uploads", "bucketKeyEnabled": False},
              keys=[key(aliases=["alias/uploads"], policy=doc(st("Allow", "kms:*", "*", principal={"AWS": f"arn:aws:iam::{B}:root"})))]),
         "Denied", ["KMS_ALIAS_RESOLVES_IN_CALLER_ACCOUNT"], [], ["put-bucket-encryption", KEY])
scenario("kms-grant-constrained", "the key is used through a grant whose encryption context does not match",
         snap(upload=SSE_KMS, identity=[PUT], keys=[key(policy=doc(st("Allow", "kms:*", "*", principal={"AWS": f"arn:aws:iam::{A}:role/KeyAdmin"})),
              grants=[{"granteePrincipal": ROLE, "operations": ["GenerateDataKey", "Decrypt"], "constraints": {"encryptionContextSubset": {"aws:s3:arn": f"arn:aws:s3:::{BUCKET}/other"}}}])]),
         "Denied", ["KMS_GRANT_MISSING_OR_CONSTRAINED", "KMS_KEY_POLICY_NO_ALLOW"], ["kms:GenerateDataKey"], [],
         warnings=["KMS_GRANT_MISSING_OR_CONSTRAINED", "KMS_NO_DECRYPT_FOR_MULTIPART"])
scenario("kms-grant-allows", "the key is used through a grant", snap(upload=SSE_KMS, identity=[PUT], keys=[key(policy=doc(st("Allow", "kms:*", "*", principal={"AWS": f"arn:aws:iam::{A}:role/KeyAdmin"})),
         grants=[{"granteePrincipal": ROLE, "operations": ["GenerateDataKey", "Decrypt"], "constraints": None}])]), "Allowed", warnings=[])
scenario("kms-large-file-warning", "a single-part SSE-KMS upload without kms:Decrypt is allowed, with a warning for large files",
         snap(upload=SSE_KMS, identity=[PUT, GDK_ONLY], keys=[key()]), "Allowed", warnings=["KMS_NO_DECRYPT_FOR_MULTIPART"])
scenario("get-kms-no-decrypt", "reading an SSE-KMS object without kms:Decrypt", snap(actions=["GetObject"], identity=[doc(st("Allow", "s3:GetObject")), GDK_ONLY],
         encryption={"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY, "bucketKeyEnabled": False}, keys=[key()]),
         "Denied", ["GET_KMS_NO_DECRYPT"], ["kms:Decrypt"], ["kms:Decrypt"])
scenario("get-kms-aws-managed-cross-account", "reading across accounts an object encrypted with aws/s3",
         snap(principal=XROLE, actions=["GetObject"], identity=[doc(st("Allow", "s3:GetObject"))], bucket_policy=doc(st("Allow", "s3:GetObject", principal={"AWS": XROLE})),
              encryption={"sseAlgorithm": "aws:kms", "bucketKeyEnabled": False}),
         "Denied", ["GET_KMS_AWS_MANAGED_KEY_CROSS_ACCOUNT"], ["kms:Decrypt"], [])

# ------------------------------------------------------------------------------------------------ verdict rules
scenario("allowed-plain", "identity allows, nothing else in the way", snap(), "Allowed", warnings=[])
scenario("unknown-scp-unreadable", "SCPs could not be read and everything else allows",
         snap(org=org(), unavailable=[{"layer": "scp", "reason": "AccessDenied calling organizations:ListPoliciesForTarget"}]),
         "Unknown", unknown=["scp"])
scenario("assumed-scp-skipped", "SCPs are skipped by the user: an assumption, not an unknown", snap(skip=["scp"]), "Allowed", assumptions=["scp"], warnings=[])
scenario("skip-layers-read-bucket-deny-still-denies", "skipLayers names the bucket policy, but it was read and denies: skipLayers accepts only what was not read",
         snap(bucket_policy=doc(st("Deny", "s3:*", OBJS, principal="*", sid="Lockdown")), skip=["bucketPolicy"]),
         "Denied", ["BUCKET_POLICY_EXPLICIT_DENY"], ["s3:PutObject"], ["Lockdown"], assumptions=[])
scenario("skip-layers-read-scp-deny-still-denies", "skipLayers names the SCPs, but they were read and one denies",
         snap(org=org(scps=[[{"id": "p-full", "name": "FullAWSAccess", "document": doc(st("Allow", "*", "*"))},
                             {"id": "p-deny", "name": "NoS3", "document": doc(st("Deny", "s3:PutObject", "*", sid="NoUploads"))}]]), skip=["scp"]),
         "Denied", ["SCP_EXPLICIT_DENY"], ["s3:PutObject"], ["NoUploads"], assumptions=[])
scenario("deny-negated-on-unresolvable-variable", "a Deny with StringNotEquals against a policy variable that has no value applies: the null value is not equal to anything",
         snap(tags={"team": "media"}, bucket_policy=doc(
             st("Allow", "s3:PutObject", OBJS, principal={"AWS": ROLE}, sid="Uploads"),
             st("Deny", "s3:PutObject", OBJS, principal="*", sid="TeamOnly",
                condition={"StringNotEquals": {"aws:PrincipalTag/team": "${s3:RequestObjectTag/team}"}}))),
         "Denied", ["PRINCIPAL_TAG_CONDITION_MISMATCH"], ["s3:PutObject"], ["TeamOnly"])
scenario("unknown-source-ip-deny", "a Deny outside an address range, and the check does not give the source IP: every request has one, so not Allowed",
         snap(bucket_policy=doc(st("Deny", "s3:PutObject", OBJS, principal="*", sid="OfficeOnly",
                                   condition={"NotIpAddress": {"aws:SourceIp": "54.240.143.0/24"}}))),
         "Unknown", ["CONTEXT_VALUE_UNKNOWN"], [], ["network.sourceIp"])
scenario("unknown-source-ip-deny-everywhere", "a Deny on IpAddress 0.0.0.0/0 without a source IP in the check was ignored before: it is Unknown now",
         snap(bucket_policy=doc(st("Deny", "s3:PutObject", OBJS, principal="*", sid="NoIPv4",
                                   condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}))),
         "Unknown", ["CONTEXT_VALUE_UNKNOWN"], [], ["network.sourceIp"])
scenario("source-ip-given-decides", "the same Deny, and the check gives a source IP outside the range: Denied",
         snap(network={"sourceIp": "203.0.113.9"}, bucket_policy=doc(st("Deny", "s3:PutObject", OBJS, principal="*", sid="OfficeOnly",
                                   condition={"NotIpAddress": {"aws:SourceIp": "54.240.143.0/24"}}))),
         "Denied", ["BUCKET_POLICY_CONDITION_SOURCE_IP"], ["s3:PutObject"], ["OfficeOnly"])
scenario("unknown-current-time-deny", "a Deny after a date, and the snapshot has no collection time: every request has a time",
         {k: v for k, v in snap(bucket_policy=doc(st("Deny", "s3:PutObject", OBJS, principal="*", sid="Expired",
                                   condition={"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}}))).items() if k != "collectedAt"},
         "Unknown", ["CONTEXT_VALUE_UNKNOWN"], [], ["collectedAt"])
scenario("unknown-tls-version-deny", "a Deny below TLS 1.2 and the check does not say the client's TLS version",
         snap(bucket_policy=doc(st("Deny", "s3:*", OBJS, principal="*", sid="Tls12",
                                   condition={"NumericLessThan": {"s3:TlsVersion": "1.2"}}))),
         "Unknown", ["CONTEXT_VALUE_UNKNOWN"], [], ["network.tlsVersion"])
scenario("tls-version-given-decides", "the same Deny, and the check says TLS 1.3: Allowed",
         snap(network={"tlsVersion": "1.3"}, bucket_policy=doc(st("Deny", "s3:*", OBJS, principal="*", sid="Tls12",
                                   condition={"NumericLessThan": {"s3:TlsVersion": "1.2"}}))),
         "Allowed", warnings=[])
scenario("unknown-source-ip-cross-account-allow", "the only grant of a cross-account bucket is conditioned on the source IP, which the check does not give",
         snap(principal=XROLE, bucket_policy=doc(st("Allow", "s3:PutObject", OBJS, principal={"AWS": XROLE}, sid="PartnerOffice",
                                   condition={"IpAddress": {"aws:SourceIp": "54.240.143.0/24"}}))),
         "Unknown", ["BUCKET_POLICY_NO_ALLOW_CROSS_ACCOUNT", "CONTEXT_VALUE_UNKNOWN"], [], ["network.sourceIp"])
scenario("unknown-session-userid-deny", "a Deny on aws:userid, which for a role depends on the session name: not decidable for the role",
         snap(bucket_policy=doc(st("Deny", "s3:PutObject", OBJS, principal="*", sid="OnlyBatch",
                                   condition={"StringNotLike": {"aws:userid": "AROAEXAMPLEID:batch-*"}}))),
         "Unknown", ["CONTEXT_VALUE_UNKNOWN"], [], ["aws:PrincipalArn"])
scenario("denied-whatever-unreadable", "SCPs unreadable, but the bucket policy denies anyway",
         snap(bucket_policy=doc(st("Deny", "s3:*", OBJS, principal="*", sid="Lockdown")), unavailable=[{"layer": "scp", "reason": "throttled"}]),
         "Denied", ["BUCKET_POLICY_EXPLICIT_DENY"], ["s3:PutObject"], ["Lockdown"])
scenario("unknown-identity-unreadable", "the role's policies could not be read", snap(no_principal=True, unavailable=[{"layer": "identity", "reason": "AccessDenied calling iam:GetRole"}]),
         "Unknown", unknown=["identity"])
scenario("unknown-bucket-missing", "the bucket could not be read", snap(no_bucket=True, unavailable=[{"layer": "bucketPolicy", "reason": "AccessDenied calling s3:GetBucketPolicy"}]),
         "Unknown", unknown=["bucketEncryption", "bucketPolicy"])
scenario("kms-unreadable-but-unused", "the key policy is unreadable but the upload uses no KMS key",
         snap(unavailable=[{"layer": "kmsKeyPolicy", "reason": "AccessDenied"}], encryption={"sseAlgorithm": "AES256", "bucketKeyEnabled": False}), "Allowed", warnings=[])
scenario("kms-key-policy-unreadable", "the key policy is unreadable and the upload uses the key",
         snap(upload=SSE_KMS, identity=[PUT, KMS_ID], keys=[key(policy=None)], unavailable=[{"layer": "kmsKeyPolicy", "reason": "GetKeyPolicy is not a cross-account operation"}]),
         "Unknown", unknown=["kmsKeyPolicy"])
scenario("invalid-principal", "the principal is not a role or user ARN", dict(snap(), request={**snap()["request"], "principalArn": "uploader"}),
         "Invalid", ["INVALID_REQUEST"], [], ["principalArn"])
scenario("invalid-context-overrides-principal", "the check's context tries to set aws:PrincipalArn, which AWS derives from the principal",
         snap(context={"aws:PrincipalArn": f"arn:aws:iam::{A}:role/admin"},
              bucket_policy=doc(st("Deny", "s3:PutObject", OBJS, principal="*", sid="AdminOnly",
                                   condition={"ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{A}:role/admin"}}))),
         "Invalid", ["INVALID_REQUEST"], [], ["context.aws:PrincipalArn"])
scenario("invalid-context-overrides-source-ip", "the check's context sets aws:SourceIp instead of network.sourceIp",
         snap(context={"aws:SourceIp": "54.240.143.7"}), "Invalid", ["INVALID_REQUEST"], [], ["network"])
CNROLE = f"arn:aws-cn:iam::{A}:role/uploader"
scenario("partition-china-allowed", "a role in aws-cn with a grant on the bucket's aws-cn ARN",
         snap(principal=CNROLE, identity=[doc(st("Allow", "s3:PutObject", f"arn:aws-cn:s3:::{BUCKET}/*", sid="CnUploads"))]),
         "Allowed", warnings=[])
scenario("partition-china-grant-on-aws-arn", "a role in aws-cn whose grant names the bucket's ARN in the aws partition: it grants nothing there",
         snap(principal=CNROLE, identity=[doc(st("Allow", "s3:PutObject", OBJS, sid="WrongPartition"))]),
         "Denied", ["IDENTITY_WRONG_RESOURCE_ARN"], ["s3:PutObject"], [f"arn:aws-cn:s3:::{BUCKET}/*"])
scenario("invalid-unknown-partition", "the principal ARN names a partition AWS does not have",
         dict(snap(), request={**snap()["request"], "principalArn": f"arn:aws-moon:iam::{A}:role/uploader"}),
         "Invalid", ["INVALID_REQUEST"], [], ["aws-moon"])
scenario("principal-not-found", "IAM answered that the role does not exist: a cause of its own, not an unknown",
         dict(snap(no_principal=True), principalNotFound="IAM has no role or user at exactly this ARN"),
         "Invalid", ["PRINCIPAL_NOT_FOUND"], [], ["get-role", "create-role"])
def with_principal_arn(s, request_arn, read_arn):
    s = dict(s, request={**s["request"], "principalArn": request_arn})
    s["principal"] = {**s["principal"], "arn": read_arn}
    return s
scenario("canonical-arn-not-service-linked", "the check writes a made-up /aws-service-role/ path; IAM's role has none: another ARN than the one read, so Invalid (and SCPs are never skipped)",
         with_principal_arn(snap(org=org([[FULL, {"id": "p-deny", "name": "DenyPut", "document": doc(st("Deny", "s3:PutObject", "*", sid="NoPut"))}]])),
                            f"arn:aws:iam::{A}:role/aws-service-role/uploader", ROLE),
         "Invalid", ["INVALID_REQUEST"], [], ["principal.arn"])
scenario("canonical-arn-path-decides", "IAM's ARN (its letter case) is aws:PrincipalArn; the check names the role by its full path, in any case",
         with_principal_arn(snap(bucket_policy=doc(st("Deny", "s3:PutObject", OBJS, principal="*", sid="OnlyTeamUploader",
                                                    condition={"ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{A}:role/team/Uploader"}}))),
                            f"arn:aws:iam::{A}:role/team/uploader", f"arn:aws:iam::{A}:role/team/Uploader"),
         "Allowed", warnings=[])
scenario("invalid-principal-of-another-account", "the snapshot's principal is a role of another account than the check's",
         with_principal_arn(snap(), ROLE, f"arn:aws:iam::{B}:role/uploader"),
         "Invalid", ["INVALID_REQUEST"], [], ["principal.arn"])
scenario("invalid-bucket-name", "the bucket name is not valid", dict(snap(), request={**snap()["request"], "bucket": "Doc_Example"}),
         "Invalid", ["INVALID_REQUEST"], [], ["bucket"])
scenario("invalid-storage-class", "an unknown storage class", snap(upload={"storageClass": "CHEAP"}), "Invalid", ["INVALID_REQUEST"], [], ["storageClass"])
scenario("policy-document-invalid", "a bucket policy Deny with an unknown operator: cannot decide",
         snap(bucket_policy=doc(st("Deny", "s3:PutObject", OBJS, principal="*", condition={"StringNotEqualz": {"s3:x-amz-acl": "private"}}, sid="Broken"))),
         "Unknown", ["POLICY_DOCUMENT_INVALID"], [], ["fix the statement"], unknown=["bucketPolicy"], warnings=[])
scenario("policy-error-but-denied", "a broken statement elsewhere, and a definite deny", snap(identity=[doc(st("Allow", condition={"Bogus": {"a": "b"}})), doc(st("Deny", "s3:*", "*", sid="NoS3"))]),
         "Denied", ["IDENTITY_EXPLICIT_DENY", "IDENTITY_NO_ALLOW"], ["s3:PutObject"], ["NoS3"])
scenario("multipart-header-warning", "a multipart upload with SSE: the parts carry no SSE header and the bucket denies uploads without it",
         snap(upload={"serverSideEncryption": "AES256", "multipart": True},
              bucket_policy=doc(st("Deny", "s3:PutObject", OBJS, principal="*", condition={"StringNotEquals": {"s3:x-amz-server-side-encryption": "AES256"}}, sid="NeedSse"))),
         "Allowed", warnings=["MULTIPART_HEADER_CONDITION"])
scenario("bofc-acl-warning", "bucket-owner-full-control without s3:PutObjectAcl is only a warning", snap(upload={"acl": "bucket-owner-full-control"}),
         "Allowed", denied=["s3:PutObjectAcl"], warnings=["IDENTITY_NO_PUT_OBJECT_ACL"])
scenario("many-causes", "several causes at once are all reported",
         snap(upload={"acl": "public-read", "storageClass": "STANDARD"}, identity=[doc(st("Allow", resource=f"arn:aws:s3:::{BUCKET}"))],
              bucket_policy=doc(st("Deny", "s3:PutObject", OBJS, principal="*", condition={"StringNotEquals": {"s3:x-amz-storage-class": "STANDARD_IA"}}, sid="IaOnly"))),
         "Denied", ["BUCKET_POLICY_CONDITION_STORAGE_CLASS", "OWNERSHIP_ENFORCED_ACL", "IDENTITY_WRONG_RESOURCE_ARN", "BUCKET_POLICY_CONDITION_STORAGE_CLASS", "IDENTITY_NO_PUT_OBJECT_ACL"],
         ["s3:PutObject", "s3:PutObjectAcl"], ["--storage-class STANDARD_IA"])

def main():
    out = os.path.dirname(os.path.abspath(__file__))
    names = set()
    for s in SCENARIOS:
        if s["name"] in names: sys.exit("duplicate " + s["name"])
        names.add(s["name"])
        with open(os.path.join(out, s["name"] + ".json"), "w") as f:
            json.dump(s, f, indent=2); f.write("\n")
    print(len(SCENARIOS), "scenarios")
main()
