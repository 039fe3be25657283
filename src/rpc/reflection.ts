/**
 * gRPC server reflection, v1 and v1alpha: grpcurl, grpcui, Postman and
 * friends list and call keyward's services without the .proto files. Open to
 * any caller (see internal-auth.ts): it describes the public contract only.
 */
import { toBinary } from "@bufbuild/protobuf";
import type { DescFile, DescMessage, DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { ServerReflection as ServerReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";

/** A reflection request of either version (they differ only by package). */
interface ReflectionRequest {
  host: string;
  messageRequest:
    | { case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices"; value: string }
    | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
    | { case: undefined; value?: undefined };
}

/** The answer part of a reflection response of either version. */
type ReflectionAnswer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

/**
 * Registers both reflection versions on the router. They describe `services`
 * (and themselves): every file those services need, imports included.
 */
export function registerReflection(router: ConnectRouter, services: readonly DescService[]): void {
  const catalog = new DescriptorCatalog([...services, ServerReflectionV1, ServerReflectionV1alpha]);
  router.service(ServerReflectionV1, reflectionService<typeof ServerReflectionV1>(catalog));
  router.service(ServerReflectionV1alpha, reflectionService<typeof ServerReflectionV1alpha>(catalog));
}

function reflectionService<S extends typeof ServerReflectionV1 | typeof ServerReflectionV1alpha>(
  catalog: DescriptorCatalog,
): ServiceImpl<S> {
  const impl = {
    // One answer per request, in order, on the same stream.
    async *serverReflectionInfo(requests: AsyncIterable<ReflectionRequest>) {
      for await (const req of requests) {
        yield { validHost: req.host, originalRequest: req, messageResponse: catalog.answer(req) };
      }
    },
  };
  // Both versions have the same shape; only their type names differ.
  return impl as unknown as ServiceImpl<S>;
}

/** Files, symbols and services, indexed from the services' descriptors. */
class DescriptorCatalog {
  private readonly services: string[];
  /** "authn/v1/auth.proto" → the file. */
  private readonly files = new Map<string, DescFile>();
  /** Fully-qualified symbol (message, enum, service, method, extension) → its file. */
  private readonly symbols = new Map<string, DescFile>();
  private readonly messages = new Map<string, DescMessage>();
  private readonly encoded = new Map<DescFile, Uint8Array>();

  constructor(services: readonly DescService[]) {
    this.services = services.map((s) => s.typeName);
    for (const service of services) this.addFile(service.file);
  }

  answer(req: ReflectionRequest): ReflectionAnswer {
    const request = req.messageRequest;
    switch (request.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: this.services.map((name) => ({ name })) } };
      case "fileByFilename":
        return this.fileAnswer(this.files.get(request.value), `file "${request.value}"`);
      case "fileContainingSymbol":
        return this.fileAnswer(this.symbolFile(request.value), `symbol "${request.value}"`);
      case "fileContainingExtension": {
        const { containingType, extensionNumber } = request.value;
        const extension = this.allExtensions().find(
          (e) => e.extendee.typeName === containingType && e.number === extensionNumber,
        );
        return this.fileAnswer(extension?.file, `extension ${extensionNumber} of "${containingType}"`);
      }
      case "allExtensionNumbersOfType": {
        if (!this.messages.has(request.value)) return notFound(`message "${request.value}"`);
        const numbers = this.allExtensions()
          .filter((e) => e.extendee.typeName === request.value)
          .map((e) => e.number);
        return { case: "allExtensionNumbersResponse", value: { baseTypeName: request.value, extensionNumber: numbers } };
      }
      case undefined:
        return error(Code.InvalidArgument, "the request names no question");
    }
  }

  /** The file, then every file it imports, directly or not (what grpcurl needs to build it). */
  private fileAnswer(file: DescFile | undefined, what: string): ReflectionAnswer {
    if (!file) return notFound(what);
    const closure = new Set<DescFile>();
    const visit = (f: DescFile) => {
      if (closure.has(f)) return;
      closure.add(f);
      f.dependencies.forEach(visit);
    };
    visit(file);
    return {
      case: "fileDescriptorResponse",
      value: { fileDescriptorProto: [...closure].map((f) => this.encode(f)) },
    };
  }

  /** "pkg.Service.Method" resolves through its service; "pkg.Message.field" is not indexed. */
  private symbolFile(symbol: string): DescFile | undefined {
    return this.symbols.get(symbol.startsWith(".") ? symbol.slice(1) : symbol);
  }

  private allExtensions() {
    return [...this.files.values()].flatMap((f) => [
      ...f.extensions,
      ...[...this.messagesOf(f)].flatMap((m) => m.nestedExtensions),
    ]);
  }

  private encode(file: DescFile): Uint8Array {
    let bytes = this.encoded.get(file);
    if (!bytes) {
      bytes = toBinary(FileDescriptorProtoSchema, file.proto);
      this.encoded.set(file, bytes);
    }
    return bytes;
  }

  private addFile(file: DescFile): void {
    if (this.files.has(file.proto.name)) return;
    this.files.set(file.proto.name, file);
    for (const message of this.messagesOf(file)) {
      this.symbols.set(message.typeName, file);
      this.messages.set(message.typeName, message);
      for (const nested of message.nestedEnums) this.symbols.set(nested.typeName, file);
      for (const extension of message.nestedExtensions) this.symbols.set(extension.typeName, file);
    }
    for (const enumeration of file.enums) this.symbols.set(enumeration.typeName, file);
    for (const extension of file.extensions) this.symbols.set(extension.typeName, file);
    for (const service of file.services) {
      this.symbols.set(service.typeName, file);
      for (const method of service.methods) this.symbols.set(`${service.typeName}.${method.name}`, file);
    }
    file.dependencies.forEach((dependency) => this.addFile(dependency));
  }

  /** Every message of the file, nested ones included. */
  private *messagesOf(file: DescFile): Generator<DescMessage> {
    const stack = [...file.messages];
    for (let message = stack.pop(); message; message = stack.pop()) {
      yield message;
      stack.push(...message.nestedMessages);
    }
  }
}

function notFound(what: string): ReflectionAnswer {
  return error(Code.NotFound, `${what} not found`);
}

/** Connect's Code numbers are gRPC's status codes, which ErrorResponse carries. */
function error(code: Code, message: string): ReflectionAnswer {
  return { case: "errorResponse", value: { errorCode: code, errorMessage: message } };
}
