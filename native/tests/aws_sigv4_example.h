/*
 * aws_sigv4_example.h - AWS's documented SigV4 example request ("Example: GET Object": GET
 * /test.txt with Range bytes=0-9) and its published Authorization value, which the signing
 * tests check (test_object_s3.c, test_object_s3_exit.c).
 */
#ifndef SL_TESTS_AWS_SIGV4_EXAMPLE_H
#define SL_TESTS_AWS_SIGV4_EXAMPLE_H

#include "object/s3_sign.h"

#define AWS_EXAMPLE_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define AWS_EXAMPLE_AUTHORIZATION                                                              \
	"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"     \
	"SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature="                    \
	"f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"

static const struct sl_s3_header aws_example_headers[] = {
	{"host", "examplebucket.s3.amazonaws.com"},
	{"range", "bytes=0-9"},
	{"x-amz-content-sha256", AWS_EXAMPLE_EMPTY_SHA256},
	{"x-amz-date", "20130524T000000Z"},
};

static const struct sl_s3_sign_input aws_example_request = {
	.access_key = "AKIAIOSFODNN7EXAMPLE",
	.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	.region = "us-east-1",
	.method = "GET",
	.uri = "/test.txt",
	.query = "",
	.headers = aws_example_headers,
	.nheaders = 4,
	.payload_hash = AWS_EXAMPLE_EMPTY_SHA256,
	.amz_date = "20130524T000000Z",
};

#endif
