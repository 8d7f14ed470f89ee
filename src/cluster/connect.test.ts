import { describe, expect, it } from "vitest";
import { connectCluster, redactUrl } from "./connect.js";

describe("redactUrl", () => {
  it("hides a password and a token", () => {
    expect(redactUrl("nats://u:secret@a:4222")).toBe("nats://u:***@a:4222");
    expect(redactUrl("nats://s3cr3t-token@a:4222")).toBe("nats://***@a:4222");
    expect(redactUrl("nats://a:4222")).toBe("nats://a:4222");
  });

  it("hides the credentials of every server of a list", () => {
    expect(redactUrl("nats://u:secret@a:4222,nats://u:secret@b:4222")).toBe("nats://u:***@a:4222,nats://u:***@b:4222");
    expect(redactUrl("nats://tok@a:4222, nats://tok@b:4222,nats://c:4222")).toBe("nats://***@a:4222, nats://***@b:4222,nats://c:4222");
  });

  it("hides credentials without a scheme, and a password holding an unencoded @", () => {
    expect(redactUrl("u:secret@a:4222")).toBe("u:***@a:4222");
    expect(redactUrl("tok@a:4222")).toBe("***@a:4222");
    expect(redactUrl("nats://u:p@ss@a:4222")).toBe("nats://u:***@a:4222");
  });
});

describe("connectCluster", () => {
  it("refuses a URL that is not a NATS URL before connecting", async () => {
    await expect(connectCluster({ url: "nat://u:secret@127.0.0.1:4" }, { name: "t" })).rejects.toThrow("the cluster URL nat://127.0.0.1:4 is not a NATS URL: use nats://host:4222 (or tls://)");
    await expect(connectCluster({ url: "http://127.0.0.1:4" }, { name: "t" })).rejects.toThrow(/is not a NATS URL/);
  });
});
