import assert from "node:assert/strict";
import { askedEndpoint } from "./endpoint.ts";

const env = (vars: Record<string, string>) => new Map(Object.entries(vars));

Deno.test("askedEndpoint() names the configured endpoint, else AWS_ENDPOINT_URL_EC2, else AWS_ENDPOINT_URL, else the region's, as the SDK picks", () => {
  const both = env({
    AWS_ENDPOINT_URL_EC2: "http://127.0.0.1:4566",
    AWS_ENDPOINT_URL: "http://127.0.0.1:9000",
  });
  assert.equal(
    askedEndpoint("https://ec2.lab.example.org", "us-east-1", both),
    "https://ec2.lab.example.org",
  );
  assert.equal(
    askedEndpoint(undefined, "us-east-1", both),
    "http://127.0.0.1:4566 (AWS_ENDPOINT_URL_EC2)",
  );
  assert.equal(
    askedEndpoint(undefined, "us-east-1", env({ AWS_ENDPOINT_URL: "http://127.0.0.1:9000" })),
    "http://127.0.0.1:9000 (AWS_ENDPOINT_URL)",
  );
  assert.equal(
    askedEndpoint(undefined, "eu-west-1", env({})),
    "https://ec2.eu-west-1.amazonaws.com",
  );
  assert.equal(askedEndpoint(undefined, undefined, env({})), "the SDK's default endpoint");
});

Deno.test("askedEndpoint() ignores the endpoint variables when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true, as the SDK does", () => {
  const ignoring = env({
    AWS_ENDPOINT_URL_EC2: "http://127.0.0.1:4566",
    AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true",
  });
  assert.equal(
    askedEndpoint(undefined, "us-east-1", ignoring),
    "https://ec2.us-east-1.amazonaws.com",
  );
});

Deno.test("askedEndpoint() never shows the user name, password or query a variable's URL carries", () => {
  const shown = askedEndpoint(
    undefined,
    "us-east-1",
    env({ AWS_ENDPOINT_URL_EC2: "https://ops:hunter2@ec2.lab.example.org/?token=abc" }),
  );
  assert.equal(shown, "https://ec2.lab.example.org/ (AWS_ENDPOINT_URL_EC2)");
});
