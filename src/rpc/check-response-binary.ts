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
  const out = new ProtoWriter(responseSize(response));
  writeResponse(out, response);
  return out.buffer;
}

function hasUnknown(r: CheckResponse): boolean {
  const http = r.httpResponse;
  const options =
    http.case === "deniedResponse" ? http.value.headers : http.case === "okResponse" ? [...http.value.headers, ...http.value.responseHeadersToAdd] : [];
  return Boolean(
    r.$unknown?.length ||
      r.status?.$unknown?.length ||
      http.value?.$unknown?.length ||
      (http.case === "deniedResponse" && http.value.status?.$unknown?.length) ||
      options.some((o) => o.$unknown?.length || o.header?.$unknown?.length),
  );
}

// ---- sizes -------------------------------------------------------------------

const statusSize = (s: NonNullable<CheckResponse["status"]>): number => varintFieldSize(1, s.code) + stringFieldSize(2, s.message);

function optionSize(o: HeaderValueOption): number {
  let size = 0;
  if (o.header) {
    const h = o.header;
    size += delimitedSize(1, stringFieldSize(1, h.key) + stringFieldSize(2, h.value) + bytesFieldSize(3, h.rawValue));
  }
  if (o.append !== undefined) size += delimitedSize(2, o.append ? 2 : 0); // google.protobuf.BoolValue
  return size;
}

const optionsSize = (field: number, options: readonly HeaderValueOption[]): number =>
  options.reduce((size, o) => size + delimitedSize(field, optionSize(o)), 0);

function httpSize(r: CheckResponse): number {
  const http = r.httpResponse;
  if (http.case === "deniedResponse") {
    const d = http.value;
    return (d.status ? delimitedSize(1, varintFieldSize(1, d.status.code)) : 0) + optionsSize(2, d.headers) + stringFieldSize(3, d.body);
  }
  if (http.case === "okResponse") return optionsSize(2, http.value.headers) + optionsSize(6, http.value.responseHeadersToAdd);
  return 0;
}

function responseSize(r: CheckResponse): number {
  let size = r.status ? delimitedSize(1, statusSize(r.status)) : 0;
  const http = r.httpResponse;
  if (http.case === "deniedResponse") size += delimitedSize(2, httpSize(r));
  if (http.case === "okResponse") size += delimitedSize(3, httpSize(r));
  return size;
}

// ---- writing -----------------------------------------------------------------

function writeOptions(out: ProtoWriter, field: number, options: readonly HeaderValueOption[]): void {
  for (const o of options) {
    out.message(field, optionSize(o), () => {
      const h = o.header;
      if (h) {
        out.message(1, stringFieldSize(1, h.key) + stringFieldSize(2, h.value) + bytesFieldSize(3, h.rawValue), () => {
          out.stringField(1, h.key);
          out.stringField(2, h.value);
          out.bytesField(3, h.rawValue);
        });
      }
      if (o.append !== undefined) {
        out.message(2, o.append ? 2 : 0, () => {
          if (o.append) {
            out.tag(1, VARINT);
            out.varint(1);
          }
        });
      }
    });
  }
}

function writeResponse(out: ProtoWriter, r: CheckResponse): void {
  const status = r.status;
  if (status) {
    out.message(1, statusSize(status), () => {
      out.varintField(1, status.code);
      out.stringField(2, status.message);
    });
  }
  const http = r.httpResponse;
  if (http.case === "deniedResponse") {
    const d = http.value;
    out.message(2, httpSize(r), () => {
      if (d.status) {
        const code = d.status.code;
        out.message(1, varintFieldSize(1, code), () => out.varintField(1, code));
      }
      writeOptions(out, 2, d.headers);
      out.stringField(3, d.body);
    });
  } else if (http.case === "okResponse") {
    const ok = http.value;
    out.message(3, httpSize(r), () => {
      writeOptions(out, 2, ok.headers);
      writeOptions(out, 6, ok.responseHeadersToAdd);
    });
  }
}
