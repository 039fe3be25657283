from authn.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VerifyCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VERIFY_CODE_UNSPECIFIED: _ClassVar[VerifyCode]
    VERIFY_CODE_OK: _ClassVar[VerifyCode]
    VERIFY_CODE_MISSING_CREDENTIALS: _ClassVar[VerifyCode]
    VERIFY_CODE_MALFORMED_CREDENTIALS: _ClassVar[VerifyCode]
    VERIFY_CODE_INVALID_SENDER_ID: _ClassVar[VerifyCode]
    VERIFY_CODE_INVALID_CREDENTIALS: _ClassVar[VerifyCode]
    VERIFY_CODE_KEY_EXPIRED: _ClassVar[VerifyCode]
    VERIFY_CODE_KEY_REVOKED: _ClassVar[VerifyCode]
    VERIFY_CODE_KEY_DISABLED: _ClassVar[VerifyCode]
    VERIFY_CODE_ORGANIZATION_SUSPENDED: _ClassVar[VerifyCode]
    VERIFY_CODE_INSUFFICIENT_SCOPE: _ClassVar[VerifyCode]
    VERIFY_CODE_WORKSPACE_REQUIRED: _ClassVar[VerifyCode]
    VERIFY_CODE_WORKSPACE_FORBIDDEN: _ClassVar[VerifyCode]
    VERIFY_CODE_AMBIGUOUS_CREDENTIALS: _ClassVar[VerifyCode]
    VERIFY_CODE_RATE_LIMITED: _ClassVar[VerifyCode]
    VERIFY_CODE_IP_NOT_ALLOWED: _ClassVar[VerifyCode]
    VERIFY_CODE_USAGE_EXCEEDED: _ClassVar[VerifyCode]

class Principal(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRINCIPAL_UNSPECIFIED: _ClassVar[Principal]
    PRINCIPAL_API_KEY: _ClassVar[Principal]
    PRINCIPAL_USER: _ClassVar[Principal]
VERIFY_CODE_UNSPECIFIED: VerifyCode
VERIFY_CODE_OK: VerifyCode
VERIFY_CODE_MISSING_CREDENTIALS: VerifyCode
VERIFY_CODE_MALFORMED_CREDENTIALS: VerifyCode
VERIFY_CODE_INVALID_SENDER_ID: VerifyCode
VERIFY_CODE_INVALID_CREDENTIALS: VerifyCode
VERIFY_CODE_KEY_EXPIRED: VerifyCode
VERIFY_CODE_KEY_REVOKED: VerifyCode
VERIFY_CODE_KEY_DISABLED: VerifyCode
VERIFY_CODE_ORGANIZATION_SUSPENDED: VerifyCode
VERIFY_CODE_INSUFFICIENT_SCOPE: VerifyCode
VERIFY_CODE_WORKSPACE_REQUIRED: VerifyCode
VERIFY_CODE_WORKSPACE_FORBIDDEN: VerifyCode
VERIFY_CODE_AMBIGUOUS_CREDENTIALS: VerifyCode
VERIFY_CODE_RATE_LIMITED: VerifyCode
VERIFY_CODE_IP_NOT_ALLOWED: VerifyCode
VERIFY_CODE_USAGE_EXCEEDED: VerifyCode
PRINCIPAL_UNSPECIFIED: Principal
PRINCIPAL_API_KEY: Principal
PRINCIPAL_USER: Principal

class VerifyRequest(_message.Message):
    __slots__ = ("headers", "required_scope", "method", "path", "workspace_id", "client_ip", "cost")
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_SCOPE_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_IP_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    headers: _containers.RepeatedCompositeFieldContainer[_common_pb2.Header]
    required_scope: str
    method: str
    path: str
    workspace_id: str
    client_ip: str
    cost: int
    def __init__(self, headers: _Optional[_Iterable[_Union[_common_pb2.Header, _Mapping]]] = ..., required_scope: _Optional[str] = ..., method: _Optional[str] = ..., path: _Optional[str] = ..., workspace_id: _Optional[str] = ..., client_ip: _Optional[str] = ..., cost: _Optional[int] = ...) -> None: ...

class RateLimit(_message.Message):
    __slots__ = ("limit", "remaining", "reset_ms", "retry_after_ms")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    RESET_MS_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    limit: int
    remaining: int
    reset_ms: int
    retry_after_ms: int
    def __init__(self, limit: _Optional[int] = ..., remaining: _Optional[int] = ..., reset_ms: _Optional[int] = ..., retry_after_ms: _Optional[int] = ...) -> None: ...

class HttpVerdict(_message.Message):
    __slots__ = ("status", "headers", "body")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    status: int
    headers: _containers.RepeatedCompositeFieldContainer[_common_pb2.Header]
    body: str
    def __init__(self, status: _Optional[int] = ..., headers: _Optional[_Iterable[_Union[_common_pb2.Header, _Mapping]]] = ..., body: _Optional[str] = ...) -> None: ...

class VerifyResponse(_message.Message):
    __slots__ = ("allowed", "code", "organization_id", "key_id", "mode", "kind", "scopes", "unscoped", "workspace_id", "principal", "user_id", "rate_limit", "http", "metadata", "credits_remaining")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    UNSCOPED_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_ID_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    HTTP_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREDITS_REMAINING_FIELD_NUMBER: _ClassVar[int]
    allowed: bool
    code: VerifyCode
    organization_id: str
    key_id: str
    mode: _common_pb2.Mode
    kind: _common_pb2.KeyKind
    scopes: _containers.RepeatedScalarFieldContainer[str]
    unscoped: bool
    workspace_id: str
    principal: Principal
    user_id: str
    rate_limit: RateLimit
    http: HttpVerdict
    metadata: _containers.ScalarMap[str, str]
    credits_remaining: int
    def __init__(self, allowed: _Optional[bool] = ..., code: _Optional[_Union[VerifyCode, str]] = ..., organization_id: _Optional[str] = ..., key_id: _Optional[str] = ..., mode: _Optional[_Union[_common_pb2.Mode, str]] = ..., kind: _Optional[_Union[_common_pb2.KeyKind, str]] = ..., scopes: _Optional[_Iterable[str]] = ..., unscoped: _Optional[bool] = ..., workspace_id: _Optional[str] = ..., principal: _Optional[_Union[Principal, str]] = ..., user_id: _Optional[str] = ..., rate_limit: _Optional[_Union[RateLimit, _Mapping]] = ..., http: _Optional[_Union[HttpVerdict, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., credits_remaining: _Optional[int] = ...) -> None: ...
