"""SAM apps as their authors write them: AWS's `sam init` hello world (python3.12) and an
S3 -> function -> DynamoDB app, each written into a test's folder as a template and its code."""

from __future__ import annotations

from pathlib import Path

# `sam init --runtime python3.12 --app-template hello-world` (x86_64), verbatim.
HELLO_TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: >
  sam-app

  Sample SAM Template for sam-app

# More info about Globals: https://github.com/awslabs/serverless-application-model/blob/master/docs/globals.rst
Globals:
  Function:
    Timeout: 3

Resources:
  HelloWorldFunction:
    Type: AWS::Serverless::Function # More info about Function Resource: https://github.com/awslabs/serverless-application-model/blob/master/versions/2016-10-31.md#awsserverlessfunction
    Properties:
      CodeUri: hello_world/
      Handler: app.lambda_handler
      Runtime: python3.12
      Architectures:
        - x86_64
      Events:
        HelloWorld:
          Type: Api # More info about API Event Source: https://github.com/awslabs/serverless-application-model/blob/master/versions/2016-10-31.md#api
          Properties:
            Path: /hello
            Method: get

Outputs:
  # ServerlessRestApi is an implicit API created out of Events key under Serverless::Function
  # Find out more about other implicit resources you can reference within SAM
  # https://github.com/awslabs/serverless-application-model/blob/master/docs/internals/generated_resources.rst#api
  HelloWorldApi:
    Description: "API Gateway endpoint URL for Prod stage for Hello World function"
    Value: !Sub "https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/hello/"
  HelloWorldFunction:
    Description: "Hello World Lambda Function ARN"
    Value: !GetAtt HelloWorldFunction.Arn
  HelloWorldFunctionIamRole:
    Description: "Implicit IAM Role created for Hello World function"
    Value: !GetAtt HelloWorldFunctionRole.Arn
"""

# hello_world/app.py of the same `sam init`, verbatim.
HELLO_APP = '''\
import json

# import requests


def lambda_handler(event, context):
    """Sample pure Lambda function

    Parameters
    ----------
    event: dict, required
        API Gateway Lambda Proxy Input Format

        Event doc: https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format

    context: object, required
        Lambda Context runtime methods and attributes

        Context doc: https://docs.aws.amazon.com/lambda/latest/dg/python-context-object-methods.html

    Returns
    ------
    API Gateway Lambda Proxy Output Format: dict

        Return doc: https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
    """

    # try:
    #     ip = requests.get("http://checkip.amazonaws.com/")
    # except requests.RequestException as e:
    #     # Send some context about this error to Lambda Logs
    #     print(e)

    #     raise e

    return {
        "statusCode": 200,
        "body": json.dumps({
            "message": "hello world",
            # "location": ip.text.replace("\\n", "")
        }),
    }
'''

# The same app fronted by an HTTP API (payload 2.0), as SAM's HttpApi event declares it.
HELLO_HTTP_API_TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Timeout: 3
Resources:
  HelloApi:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: $default
      CorsConfiguration:
        AllowOrigins: [https://app.example.com]
        AllowMethods: [GET]
  HelloHttpFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello_world/
      Handler: app.lambda_handler
      Runtime: python3.12
      Events:
        HelloWorld:
          Type: HttpApi
          Properties:
            ApiId: !Ref HelloApi
            Path: /hello-http
            Method: GET
Outputs:
  HelloWorldApi:
    Value: !Sub "https://${HelloApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/hello-http"
"""

# Uploads to a bucket are recorded in a table: S3 -> function -> DynamoDB.
UPLOADS_TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: Every .txt uploaded to the bucket is recorded in the table
Parameters:
  Stage:
    Type: String
    Default: dev
Globals:
  Function:
    Runtime: python3.12
    MemorySize: 256
    Timeout: 10
    Environment:
      Variables:
        STAGE: !Ref Stage
Resources:
  UploadsBucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${AWS::StackName}-uploads-${Stage}"
  UploadsTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-uploads"
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - AttributeName: key
          AttributeType: S
      KeySchema:
        - AttributeName: key
          KeyType: HASH
  RecordFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: record.handler
      Environment:
        Variables:
          TABLE_NAME: !Ref UploadsTable
          TABLE_ARN: !GetAtt UploadsTable.Arn
      Policies:
        - DynamoDBCrudPolicy:
            TableName: !Ref UploadsTable
        - S3ReadPolicy:
            BucketName: !Sub "${AWS::StackName}-uploads-${Stage}"
      EventInvokeConfig:
        MaximumRetryAttempts: 1
      Events:
        Upload:
          Type: S3
          Properties:
            Bucket: !Ref UploadsBucket
            Events: s3:ObjectCreated:*
            Filter:
              S3Key:
                Rules:
                  - Name: suffix
                    Value: .txt
"""

UPLOADS_APP = '''\
import os
import urllib.parse

import boto3

s3 = boto3.client("s3")
table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def handler(event, context):
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        table.put_item(Item={"key": key, "words": len(body.split()),
                             "stage": os.environ["STAGE"]})
'''


def write_app(folder: Path, template: str, code: dict[str, str]) -> Path:
    """`template` as folder/template.yaml and each `code` entry (relative path -> text)."""
    for relative, text in code.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text)
    path = folder / "template.yaml"
    path.write_text(template)
    return path
