"""The HTTP front: the endpoint app, its auth and routing by signature, Lambda's API, the
control, trace and X-Ray APIs, the AWS-span middleware, and the API Gateway stage."""
