#!/usr/bin/env python3
"""Seeds a moto server with the situations of the seed article, for the integration tests, `make e2e` and
`make demo`. Usage: seed.py ENDPOINT_URL. Prints one JSON object with the ids created (accounts, ARNs).

Account A (moto's default, 123456789012) holds the uploader roles and the buckets; account B (444455556666)
holds a KMS key and a reader role; a member account created in the organization holds a role and a bucket
under an SCP that denies uploads. Everything is created through the AWS APIs with boto3."""
import json
import sys

import boto3

ENDPOINT = sys.argv[1]
SCALE = "--scale" in sys.argv[2:]
A = "123456789012"
B = "444455556666"
REGION = "us-east-1"
KW = dict(endpoint_url=ENDPOINT, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")


def client(service, creds=None):
    kw = dict(KW)
    if creds:
        kw.update(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                  aws_session_token=creds["SessionToken"])
    return boto3.client(service, **kw)


def assume(account, role="bucket-access-reader"):
    return client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName="seed")["Credentials"]


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def scale(n_roles=20, n_buckets=10):
    """Roles and buckets for the efficiency measurements (default 20 and 10: `--scale [ROLES BUCKETS]`)."""
    iam_client, s3_client = client("iam"), client("s3")
    arn = iam_client.create_policy(PolicyName="scale-upload", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::*/*"}))["Policy"]["Arn"]
    roles = []
    for i in range(n_roles):
        iam_client.create_role(RoleName=f"scale-role-{i}", AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "sts:AssumeRole"}))
        iam_client.attach_role_policy(RoleName=f"scale-role-{i}", PolicyArn=arn)
        roles.append(f"arn:aws:iam::{A}:role/scale-role-{i}")
    buckets = []
    for i in range(n_buckets):
        s3_client.create_bucket(Bucket=f"scale-bucket-{i}")
        buckets.append(f"scale-bucket-{i}")
    print(json.dumps({"roles": roles, "buckets": buckets}))
    sys.exit(0)


def limited_user():
    """A role and bucket, and a user whose keys may read everything but iam:GetRole (for enforcement tests)."""
    iam_client, s3_client = client("iam"), client("s3")
    iam_client.create_role(RoleName="uploader", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "sts:AssumeRole"}))
    iam_client.put_role_policy(RoleName="uploader", PolicyName="upload", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::*/*"}))
    s3_client.create_bucket(Bucket="limited-bucket")
    iam_client.create_user(UserName="limited")
    iam_client.put_user_policy(UserName="limited", PolicyName="read", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:GetRole", "Resource": "*"}))
    key = iam_client.create_access_key(UserName="limited")["AccessKey"]
    print(json.dumps({"uploader": f"arn:aws:iam::{A}:role/uploader", "bucket": "limited-bucket",
                      "accessKeyId": key["AccessKeyId"], "secretAccessKey": key["SecretAccessKey"]}))
    sys.exit(0)


def scale_accounts(n_accounts, roles_per_account, n_buckets):
    """The 100,000-check benchmark's world: `n_accounts` accounts (A and others), each with a reader role and
    `roles_per_account` roles under one managed policy; `n_buckets` buckets in A. Usage: --scale-accounts N R B"""
    out = {"accounts": [], "readers": {}, "roles": [], "buckets": []}
    for k in range(n_accounts):
        account = A if k == 0 else f"{200000000000 + k}"
        iam_client = client("iam") if k == 0 else client("iam", assume(account, "seed-admin"))
        if k != 0:
            iam_client.create_role(RoleName="bucket-access-reader", AssumeRolePolicyDocument=doc(
                {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "sts:AssumeRole"}))
            out["readers"][account] = f"arn:aws:iam::{account}:role/bucket-access-reader"
        arn = iam_client.create_policy(PolicyName="bench-upload", PolicyDocument=doc(
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::*/*"}))["Policy"]["Arn"]
        for i in range(roles_per_account):
            iam_client.create_role(RoleName=f"bench-role-{i}", AssumeRolePolicyDocument=doc(
                {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "sts:AssumeRole"}))
            iam_client.attach_role_policy(RoleName=f"bench-role-{i}", PolicyArn=arn)
            out["roles"].append(f"arn:aws:iam::{account}:role/bench-role-{i}")
        out["accounts"].append(account)
    s3_client = client("s3")
    for i in range(n_buckets):
        s3_client.create_bucket(Bucket=f"bench-bucket-{i}")
        s3_client.put_bucket_policy(Bucket=f"bench-bucket-{i}", Policy=doc(
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:PutObject",
             "Resource": f"arn:aws:s3:::bench-bucket-{i}/*",
             "Condition": {"StringEquals": {"aws:PrincipalAccount": out["accounts"]}}}))
        out["buckets"].append(f"bench-bucket-{i}")
    print(json.dumps(out))
    sys.exit(0)


if "--scale-accounts" in sys.argv[2:]:
    numbers = [int(a) for a in sys.argv[2:] if a.isdigit()]
    scale_accounts(*numbers[:3])
if SCALE:
    numbers = [int(a) for a in sys.argv[2:] if a.isdigit()]
    scale(*numbers[:2])
if "--limited-user" in sys.argv[2:]:
    limited_user()

TRUST = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "sts:AssumeRole"})
out = {"accountA": A, "accountB": B, "region": REGION}

iam = client("iam")
s3 = client("s3")


def role(iam_client, account, name, *statements, boundary=None):
    kw = {"RoleName": name, "AssumeRolePolicyDocument": TRUST}
    if boundary:
        kw["PermissionsBoundary"] = boundary
    iam_client.create_role(**kw)
    if statements:
        arn = iam_client.create_policy(PolicyName=f"{name}-policy", PolicyDocument=doc(*statements))["Policy"]["Arn"]
        iam_client.attach_role_policy(RoleName=name, PolicyArn=arn)
    return f"arn:aws:iam::{account}:role/{name}"


def bucket(s3_client, name, policy=None, ownership="BucketOwnerEnforced", encryption=None):
    s3_client.create_bucket(Bucket=name)
    s3_client.put_bucket_ownership_controls(Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]})
    s3_client.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    if policy:
        s3_client.put_bucket_policy(Bucket=name, Policy=policy)
    if encryption:
        s3_client.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [encryption]})
    return name


PUT = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::*/*"}
out["uploader"] = role(iam, A, "uploader", PUT)
out["aclUploader"] = role(iam, A, "acl-uploader", {"Effect": "Allow", "Action": ["s3:PutObject", "s3:PutObjectAcl"], "Resource": "arn:aws:s3:::*/*"})
out["kmsUploader"] = role(iam, A, "kms-uploader", PUT, {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*"})
out["plainBucket"] = bucket(s3, "plain-bucket")
out["aclBucket"] = bucket(s3, "acl-bucket", ownership="BucketOwnerPreferred")

# The six bucket-policy conditions of the seed article, each as a Deny that applies unless the request complies.
KEY_A = client("kms").create_key(Description="uploads key A")["KeyMetadata"]["Arn"]
CONDITIONS = {
    "source-ip": {"NotIpAddress": {"aws:SourceIp": "54.240.143.0/24"}},
    "storage-class": {"StringNotEquals": {"s3:x-amz-storage-class": "STANDARD_IA"}},
    "acl": {"StringNotEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
    "grant-full-control": {"StringNotEquals": {"s3:x-amz-grant-full-control": "id=79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}},
    "kms-key-id": {"StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": KEY_A}},
    "sse": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "AES256"}},
    # Conditional writes required, with no exemption for the parts of a multipart upload.
    "conditional-writes": {"Null": {"s3:if-none-match": "true"}},
}
out["conditionBuckets"] = {}
for slug, condition in CONDITIONS.items():
    name = f"seed-{slug}"
    policy = doc({"Sid": "DenyWithCondition", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
                  "Resource": f"arn:aws:s3:::{name}/*", "Condition": condition})
    bucket(s3, name, policy, ownership="BucketOwnerPreferred" if slug == "grant-full-control" else "BucketOwnerEnforced")
    out["conditionBuckets"][slug] = name
out["keyA"] = KEY_A
client("kms").put_key_policy(KeyId=KEY_A, PolicyName="default", Policy=doc(
    {"Sid": "EnableIAMPolicies", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "kms:*", "Resource": "*"}))

# A VPC endpoint whose policy allows only another bucket.
ec2 = client("ec2")
vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
endpoint = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.s3", VpcEndpointType="Gateway",
                                   PolicyDocument=doc({"Sid": "Access-to-specific-bucket-only", "Effect": "Allow", "Principal": "*",
                                                       "Action": "s3:PutObject", "Resource": "arn:aws:s3:::other-bucket/*"}))
out["vpcId"] = vpc
out["vpcEndpointId"] = endpoint["VpcEndpoint"]["VpcEndpointId"]
# A VPC with two S3 endpoints, an interface endpoint (with DNS names) and a gateway.
vpc2 = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
subnet = ec2.create_subnet(VpcId=vpc2, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
interface = ec2.create_vpc_endpoint(VpcId=vpc2, ServiceName=f"com.amazonaws.{REGION}.s3", VpcEndpointType="Interface",
                                    SubnetIds=[subnet])["VpcEndpoint"]
ec2.create_vpc_endpoint(VpcId=vpc2, ServiceName=f"com.amazonaws.{REGION}.s3", VpcEndpointType="Gateway")
out["vpcWithTwoEndpoints"] = vpc2
out["interfaceEndpointId"] = interface["VpcEndpointId"]
out["interfaceEndpointDns"] = interface["DnsEntries"][0]["DnsName"]

# Account B: a key whose policy names only account B, and a reader role the operator assumes to read it.
creds_b = assume(B)
iam_b = client("iam", creds_b)
role(iam_b, B, "bucket-access-reader", {"Effect": "Allow", "Action": ["kms:*", "iam:*", "s3:*"], "Resource": "*"})
kms_b = client("kms", creds_b)
KEY_B = kms_b.create_key(Description="partner key", Policy=doc(
    {"Sid": "OwnerOnly", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"}, "Action": "kms:*", "Resource": "*"}))["KeyMetadata"]["Arn"]
out["keyB"] = KEY_B
out["readerB"] = f"arn:aws:iam::{B}:role/bucket-access-reader"
out["crossKeyBucket"] = bucket(s3, "cross-key-bucket", encryption={
    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY_B}, "BucketKeyEnabled": False})

# Resource tags: keys whose policy admits the uploader only on keys tagged `team=media` (one is, one is not),
# each a bucket's default key; and a bucket tagged `env=prod` whose policy denies uploads unless the bucket
# carries that tag (moto cannot say whether ABAC is enabled: that read fails and is named).
kms_a = client("kms")
for slug, team in [("media", "media"), ("finance", "finance")]:
    key = kms_a.create_key(Description=f"tagged key {slug}", Tags=[{"TagKey": "team", "TagValue": team}], Policy=doc(
        {"Sid": "MediaKeysOnly", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:role/kms-uploader"},
         "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/team": "media"}}}))["KeyMetadata"]["Arn"]
    out[f"taggedKeyBucket-{slug}"] = bucket(s3, f"tagged-key-{slug}", encryption={
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}, "BucketKeyEnabled": False})
out["taggedBucket"] = bucket(s3, "tagged-bucket", policy=doc(
    {"Sid": "ProdBucketsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
     "Resource": "arn:aws:s3:::tagged-bucket/*", "Condition": {"StringNotEquals": {"aws:ResourceTag/env": "prod"}}}))
s3.put_bucket_tagging(Bucket="tagged-bucket", Tagging={"TagSet": [{"Key": "env", "Value": "prod"}]})

s3_b = client("s3", creds_b)


def acl_bucket_b(name, ignore):
    """A bucket of account B where ACLs act (BucketOwnerPreferred), public ACLs allowed, IgnorePublicAcls as given."""
    s3_b.create_bucket(Bucket=name)
    s3_b.put_bucket_ownership_controls(Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
    s3_b.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": ignore, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})


# Bucket ACLs of account B: WRITE to AuthenticatedUsers, acting (IgnorePublicAcls off) or ignored (on).
for slug, ignore in [("acts", False), ("ignored", True)]:
    name = f"acl-grant-{slug}"
    acl_bucket_b(name, ignore)
    owner = s3_b.get_bucket_acl(Bucket=name)["Owner"]["ID"]
    s3_b.put_bucket_acl(Bucket=name, GrantFullControl=f"id={owner}",
                        GrantWrite="uri=http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
    out[f"aclBucket-{slug}"] = name

# Object ACLs of account B: an object whose public-read ACL grants the download, with IgnorePublicAcls off
# (acts) or on (ignored).
for slug, ignore in [("acts", False), ("ignored", True)]:
    name = f"public-object-{slug}"
    acl_bucket_b(name, ignore)
    s3_b.put_object(Bucket=name, Key="shared/report.csv", Body=b"report", ACL="public-read")
    out[f"publicObjectBucket-{slug}"] = name

# A bucket of account B whose policy lets account A's uploader write, not read back (Object Ownership
# BucketOwnerEnforced: what it writes is B's).
s3_b.create_bucket(Bucket="partner-drop")
s3_b.put_bucket_ownership_controls(Bucket="partner-drop", OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
s3_b.put_bucket_policy(Bucket="partner-drop", Policy=doc(
    {"Sid": "PartnerUploads", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:role/round-trip"},
     "Action": "s3:PutObject", "Resource": "arn:aws:s3:::partner-drop/*"}))
s3_b.put_object(Bucket="partner-drop", Key="drop/file.csv", Body=b"dropped")
out["roundTrip"] = role(iam, A, "round-trip", {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::*/*"})

# Downloads: a role that may read objects (and not list buckets); an archived object, a tagged one.
out["downloader"] = role(iam, A, "downloader", {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*/*"})
s3.put_object(Bucket="plain-bucket", Key="archive/2019.csv", Body=b"old", StorageClass="DEEP_ARCHIVE")
s3.put_object(Bucket="plain-bucket", Key="reports/q3.csv", Body=b"q3", Tagging="classification=internal")

# Access points (account A): a role that may upload through any access point of A; a bucket that delegates to
# A's access points and one that does not; an internet access point, a VPC-only one and one whose policy denies.
out["apUploader"] = role(iam, A, "ap-uploader", {"Effect": "Allow", "Action": "s3:PutObject",
                                                  "Resource": f"arn:aws:s3:{REGION}:{A}:accesspoint/*/object/*"})
bucket(s3, "ap-bucket", doc({"Sid": "DelegateToAccessPoints", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*",
                             "Resource": ["arn:aws:s3:::ap-bucket", "arn:aws:s3:::ap-bucket/*"],
                             "Condition": {"StringEquals": {"s3:DataAccessPointAccount": A}}}))
bucket(s3, "ap-undelegated-bucket")
# s3control puts the account in the host name (`123456789012.127.0.0.1`); moto reads it from the
# `x-amz-account-id` header too, so the seed sends its requests to 127.0.0.1 itself.
s3control = client("s3control")
s3control.meta.events.register("before-send", lambda request, **_: setattr(
    request, "url", request.url.replace(f"//{A}.", "//")))
out["accessPoints"] = {}
for slug, bucket_name, extra in [("uploads", "ap-bucket", {}), ("undelegated", "ap-undelegated-bucket", {}),
                                 ("vpc-only", "ap-bucket", {"VpcConfiguration": {"VpcId": vpc}}),
                                 ("denying", "ap-bucket", {})]:
    made = s3control.create_access_point(AccountId=A, Name=f"{slug}-ap", Bucket=bucket_name, **extra)
    out["accessPoints"][slug] = {"arn": made["AccessPointArn"], "alias": made["Alias"]}
# A bucket without Block Public Access of its own (nor the account's): only the access point's own (all four
# on, the default) blocks a public ACL sent through it.
s3.create_bucket(Bucket="ap-open-bucket")
s3.put_bucket_ownership_controls(Bucket="ap-open-bucket", OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
s3.put_bucket_policy(Bucket="ap-open-bucket", Policy=doc(
    {"Sid": "DelegateToAccessPoints", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*",
     "Resource": ["arn:aws:s3:::ap-open-bucket", "arn:aws:s3:::ap-open-bucket/*"],
     "Condition": {"StringEquals": {"s3:DataAccessPointAccount": A}}}))
made = s3control.create_access_point(AccountId=A, Name="open-bucket-ap", Bucket="ap-open-bucket")
out["accessPoints"]["open-bucket"] = {"arn": made["AccessPointArn"], "alias": made["Alias"]}
out["apAclUploader"] = role(iam, A, "ap-acl-uploader", {"Effect": "Allow", "Action": ["s3:PutObject", "s3:PutObjectAcl"],
                                                          "Resource": f"arn:aws:s3:{REGION}:{A}:accesspoint/*/object/*"})
s3control.put_access_point_policy(AccountId=A, Name="denying-ap", Policy=doc(
    {"Sid": "NoUploadsHere", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
     "Resource": f"arn:aws:s3:{REGION}:{A}:accesspoint/denying-ap/object/*"}))

# A role with a permissions boundary, tags and an inline policy (the account read at once must give it as the
# role's own read does). moto loads no AWS managed policies unless told to: none is attached here.
boundary_arn = iam.create_policy(PolicyName="uploads-boundary", PolicyDocument=doc(
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))["Policy"]["Arn"]
out["boundedUploader"] = role(iam, A, "bounded-uploader", PUT, boundary=boundary_arn)
iam.put_role_policy(RoleName="bounded-uploader", PolicyName="tagging", PolicyDocument=doc(
    {"Effect": "Allow", "Action": "s3:PutObjectTagging", "Resource": "arn:aws:s3:::*/*"}))
iam.tag_role(RoleName="bounded-uploader", Tags=[{"Key": "team", "Value": "media"}])

# A role at a path: a check names it by its full ARN, path included; another path is another role.
iam.create_role(RoleName="finance-admin", Path="/finance/", AssumeRolePolicyDocument=TRUST)
iam.put_role_policy(RoleName="finance-admin", PolicyName="admin",
                    PolicyDocument=doc({"Sid": "FinanceSecret", "Effect": "Allow", "Action": "*", "Resource": "*"}))
out["pathedRole"] = f"arn:aws:iam::{A}:role/finance/finance-admin"

# The organization reader: in the management account (A), read-only on Organizations.
role(iam, A, "bucket-access-org-reader", {"Effect": "Allow", "Resource": "*", "Action": [
    "organizations:DescribeOrganization", "organizations:DescribePolicy", "organizations:ListParents",
    "organizations:ListPoliciesForTarget"]})
out["orgReader"] = f"arn:aws:iam::{A}:role/bucket-access-org-reader"

# A user in a group: the group grants the upload.
iam.create_group(GroupName="uploaders")
iam.put_group_policy(GroupName="uploaders", PolicyName="upload", PolicyDocument=doc(PUT))
iam.create_user(UserName="alice")
iam.add_user_to_group(GroupName="uploaders", UserName="alice")
iam.create_user(UserName="bob")
out["userInGroup"] = f"arn:aws:iam::{A}:user/alice"
out["userWithout"] = f"arn:aws:iam::{A}:user/bob"

# A bucket policy with a key given twice (Deny, then Allow): a plain JSON reader keeps the Allow.
out["duplicateKeyBucket"] = bucket(s3, "duplicate-key-bucket")
s3.put_bucket_policy(Bucket="duplicate-key-bucket", Policy='{"Version":"2012-10-17","Statement":[{"Sid":"Twice",'
                     '"Effect":"Deny","Effect":"Allow","Principal":"*","Action":"s3:PutObject",'
                     '"Resource":"arn:aws:s3:::duplicate-key-bucket/*"}]}')

# A user with more inline policies and groups than one page of a listing holds (100): only the last of
# each grants the upload, so a listing read to its first page only loses the grant.
iam.create_user(UserName="carol")
NOTHING = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::nothing/*"}
for i in range(120):
    iam.put_user_policy(UserName="carol", PolicyName=f"p{i:03}", PolicyDocument=doc(PUT if i == 119 else NOTHING))
for i in range(105):
    iam.create_group(GroupName=f"team-{i:03}")
    iam.add_user_to_group(GroupName=f"team-{i:03}", UserName="carol")
iam.put_group_policy(GroupName="team-104", PolicyName="read", PolicyDocument=doc(NOTHING))
out["userWithManyPolicies"] = f"arn:aws:iam::{A}:user/carol"

# An organization: account A manages it; a member account holds a role and a bucket under an SCP deny.
org = client("organizations")
org.create_organization(FeatureSet="ALL")
root = org.list_roots()["Roots"][0]["Id"]
member = org.create_account(AccountName="workloads", Email="workloads@example.com")["CreateAccountStatus"]["AccountId"]
out["memberAccount"] = member
creds_m = assume(member)
iam_m = client("iam", creds_m)
role(iam_m, member, "bucket-access-reader", {"Effect": "Allow", "Action": "*", "Resource": "*"})
out["memberUploader"] = role(iam_m, member, "uploader", PUT)
out["memberBucket"] = bucket(client("s3", creds_m), f"member-bucket-{member}")
out["readerMember"] = f"arn:aws:iam::{member}:role/bucket-access-reader"
scp = org.create_policy(Name="DenyUploads", Type="SERVICE_CONTROL_POLICY", Description="deny uploads",
                        Content=doc({"Sid": "NoUploads", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"}))
org.attach_policy(PolicyId=scp["Policy"]["PolicySummary"]["Id"], TargetId=member)
out["root"] = root

print(json.dumps(out))
