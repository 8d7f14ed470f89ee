import { describe, expect, it } from "vitest";
import { redactUrl } from "./connect.js";

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
