#!/bin/sh
# A deploy script as LocalStack users write them: plain AWS CLI calls against an endpoint URL.
# Usage: ENDPOINT=http://localhost:4566 ./deploy_with_aws_cli.sh   (run in an empty folder)
set -eu
ENDPOINT=${ENDPOINT:-http://localhost:4566}
awslocal() { aws --endpoint-url "$ENDPOINT" --output json "$@"; }

cat > handler.py <<'PY'
def handler(event, context):
    return {"version": "one", "got": event}
PY
zip -q f.zip handler.py

ROLE_ARN=$(awslocal iam create-role --role-name lambda-ex \
  --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}' \
  --query 'Role.Arn' --output text)
awslocal iam attach-role-policy --role-name lambda-ex \
  --policy-arn arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole
awslocal sts get-caller-identity > identity.json

awslocal lambda create-function --function-name hello --runtime python3.12 \
  --handler handler.handler --role "$ROLE_ARN" --zip-file fileb://f.zip > created.json
awslocal lambda wait function-active --function-name hello
echo '{"name": "first"}' > event.json  # fileb:// reads the same in AWS CLI v1 and v2
awslocal lambda invoke --function-name hello --payload fileb://event.json first.json \
  > /dev/null

VERSION=$(awslocal lambda publish-version --function-name hello --query Version --output text)
awslocal lambda create-alias --function-name hello --name live --function-version "$VERSION" \
  > alias.json
awslocal lambda invoke --function-name hello --qualifier live live.json > /dev/null

STREAM_ARN=$(awslocal dynamodb create-table --table-name orders \
  --attribute-definitions AttributeName=id,AttributeType=S \
  --key-schema AttributeName=id,KeyType=HASH --billing-mode PAY_PER_REQUEST \
  --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES \
  --query 'TableDescription.LatestStreamArn' --output text)
awslocal lambda create-event-source-mapping --function-name hello --batch-size 10 \
  --event-source-arn "$STREAM_ARN" --starting-position LATEST > mapping.json

cat > handler.py <<'PY'
def handler(event, context):
    return {"version": "two", "got": event}
PY
rm f.zip && zip -q f.zip handler.py
awslocal lambda update-function-code --function-name hello --zip-file fileb://f.zip \
  > updated.json
awslocal lambda wait function-updated --function-name hello

awslocal lambda invoke --function-name hello --qualifier live after-update-live.json \
  > /dev/null
awslocal lambda invoke --function-name hello after-update-latest.json > /dev/null
echo "deployed hello version $VERSION behind alias live"
