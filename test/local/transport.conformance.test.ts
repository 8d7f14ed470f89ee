import { LocalTransport } from "../../src/runtime/local-transport.js";
import { runTransportSuite } from "../conformance/transport-suite.js";

runTransportSuite("in-process transport", ({ capacity }) => new LocalTransport({ capacity }));
