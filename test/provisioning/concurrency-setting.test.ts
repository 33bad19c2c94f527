// PROVISIONING_CONCURRENCY: how many runs one replica executes at once. A bad value stops the
// server at start with a message naming the variable.
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/config.js";

describe("PROVISIONING_CONCURRENCY", () => {
  it("defaults to 20 runs at once and takes any whole number from 1 to 100", () => {
    expect(loadConfig({}).PROVISIONING_CONCURRENCY).toBe(20);
    expect(loadConfig({ PROVISIONING_CONCURRENCY: "1" }).PROVISIONING_CONCURRENCY).toBe(1);
    expect(loadConfig({ PROVISIONING_CONCURRENCY: "100" }).PROVISIONING_CONCURRENCY).toBe(100);
  });

  it.each(["0", "-3", "101", "2.5", "ten"])("refuses %s, naming the variable", (value) => {
    expect(() => loadConfig({ PROVISIONING_CONCURRENCY: value })).toThrow(ConfigError);
    expect(() => loadConfig({ PROVISIONING_CONCURRENCY: value })).toThrow(/PROVISIONING_CONCURRENCY/);
  });
});
