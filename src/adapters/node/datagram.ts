import { unsupported } from "../../core/errors.ts";
import type { BindOptions, DatagramSocket } from "../../core/types.ts";

export function bind(_options?: BindOptions): Promise<DatagramSocket> {
  return Promise.reject(unsupported("UDP", "node"));
}
