/**
 * Envoy's CheckResponse in the protobuf binary format, written straight into
 * one buffer: the bytes protobuf-es's toBinary writes (see
 * verify-response-binary.ts for why). An allowed Check answers a dozen
 * header options; encoding them was most of what Check cost beyond Verify.
 * test/rpc/check-response-binary.test.ts compares both on random responses;
 * unknown fields go to toBinary.
 */
import { toBinary } from "@bufbuild/protobuf";
import type { HeaderValueOption } from "../../gen/envoy/config/core/v3/base_pb.js";
import { CheckResponseSchema } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import type { CheckResponse } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import {
  ProtoWriter,
  VARINT,
  bytesFieldSize,
  delimitedSize,
  stringFieldSize,
  varintFieldSize,
} from "./protobuf-writer.js";

export function encodeCheckResponse(response: CheckResponse): Uint8Array {
  if (hasUnknown(response)) return toBinary(CheckResponseSchema, response);
  // Each header option's size, measured once: written after its tag, and summed into its parents'.
  const sizes = new Sizes();
  const out = new ProtoWriter(responseSize(response, sizes));
  writeResponse(out, response, sizes);
  return out.buffer;
}

const someUnknown = (options: readonly HeaderValueOption[]): boolean => {
  for (const o of options) if (o.$unknown?.length || o.header?.$unknown?.length) return true;
  return false;
};

function hasUnknown(r: CheckResponse): boolean {
  if (r.$unknown?.length || r.status?.$unknown?.length) return true;
  const http = r.httpResponse;
  if (http.case === "deniedResponse") return Boolean(http.value.$unknown?.length || http.value.status?.$unknown?.length || someUnknown(http.value.headers));
  if (http.case === "okResponse") return Boolean(http.value.$unknown?.length || someUnknown(http.value.headers) || someUnknown(http.value.responseHeadersToAdd));
  return false;
}

/** Option and header sizes in the order they are written: measured by the size pass, read back by the writer. */
class Sizes {
  readonly values: number[] = [];
  private next = 0;

  add(size: number): number {
    this.values.push(size);
    return size;
  }

  take(): number {
    return this.values[this.next++] as number;
  }
}

// ---- sizes -------------------------------------------------------------------

const statusSize = (s: NonNullable<CheckResponse["status"]>): number => varintFieldSize(1, s.code) + stringFieldSize(2, s.message);

/** An option's size (recorded), after its header's (recorded first). */
function optionSize(o: HeaderValueOption, sizes: Sizes): number {
  let size = 0;
  const h = o.header;
  if (h) size += delimitedSize(1, sizes.add(stringFieldSize(1, h.key) + stringFieldSize(2, h.value) + bytesFieldSize(3, h.rawValue)));
  if (o.append !== undefined) size += delimitedSize(2, o.append ? 2 : 0); // google.protobuf.BoolValue
  return size;
}

function optionsSize(field: number, options: readonly HeaderValueOption[], sizes: Sizes): number {
  let size = 0;
  for (const o of options) {
    const at = sizes.values.length;
    sizes.add(0); // the option's own size, known once its header's is
    const own = optionSize(o, sizes);
    sizes.values[at] = own;
    size += delimitedSize(field, own);
  }
  return size;
}

function httpSize(r: CheckResponse, sizes: Sizes): number {
  const http = r.httpResponse;
  if (http.case === "deniedResponse") {
    const d = http.value;
    return (d.status ? delimitedSize(1, varintFieldSize(1, d.status.code)) : 0) + optionsSize(2, d.headers, sizes) + stringFieldSize(3, d.body);
  }
  if (http.case === "okResponse") return optionsSize(2, http.value.headers, sizes) + optionsSize(6, http.value.responseHeadersToAdd, sizes);
  return 0;
}

function responseSize(r: CheckResponse, sizes: Sizes): number {
  let size = r.status ? delimitedSize(1, statusSize(r.status)) : 0;
  const http = r.httpResponse;
  if (http.case !== undefined) size += delimitedSize(http.case === "deniedResponse" ? 2 : 3, sizes.add(httpSize(r, sizes)));
  return size;
}

// ---- writing -----------------------------------------------------------------

function writeOptions(out: ProtoWriter, field: number, options: readonly HeaderValueOption[], sizes: Sizes): void {
  for (const o of options) {
    out.nested(field, sizes.take());
    const h = o.header;
    if (h) {
      out.nested(1, sizes.take());
      out.stringField(1, h.key);
      out.stringField(2, h.value);
      out.bytesField(3, h.rawValue);
    }
    if (o.append !== undefined) {
      out.nested(2, o.append ? 2 : 0);
      if (o.append) {
        out.tag(1, VARINT);
        out.varint(1);
      }
    }
  }
}

function writeResponse(out: ProtoWriter, r: CheckResponse, sizes: Sizes): void {
  const status = r.status;
  if (status) {
    out.nested(1, statusSize(status));
    out.varintField(1, status.code);
    out.stringField(2, status.message);
  }
  const http = r.httpResponse;
  if (http.case === undefined) return;
  // The http answer's size was recorded last.
  out.nested(http.case === "deniedResponse" ? 2 : 3, sizes.values[sizes.values.length - 1] as number);
  if (http.case === "deniedResponse") {
    const d = http.value;
    if (d.status) {
      const code = d.status.code;
      out.nested(1, varintFieldSize(1, code));
      out.varintField(1, code);
    }
    writeOptions(out, 2, d.headers, sizes);
    out.stringField(3, d.body);
  } else {
    writeOptions(out, 2, http.value.headers, sizes);
    writeOptions(out, 6, http.value.responseHeadersToAdd, sizes);
  }
}
