import datetime

from authn.v1 import common_pb2 as _common_pb2
from authn.v1 import organization_pb2 as _organization_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RefillInterval(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REFILL_INTERVAL_UNSPECIFIED: _ClassVar[RefillInterval]
    REFILL_INTERVAL_DAILY: _ClassVar[RefillInterval]
    REFILL_INTERVAL_MONTHLY: _ClassVar[RefillInterval]

class UsageGranularity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    USAGE_GRANULARITY_UNSPECIFIED: _ClassVar[UsageGranularity]
    USAGE_GRANULARITY_HOUR: _ClassVar[UsageGranularity]
    USAGE_GRANULARITY_DAY: _ClassVar[UsageGranularity]
REFILL_INTERVAL_UNSPECIFIED: RefillInterval
REFILL_INTERVAL_DAILY: RefillInterval
REFILL_INTERVAL_MONTHLY: RefillInterval
USAGE_GRANULARITY_UNSPECIFIED: UsageGranularity
USAGE_GRANULARITY_HOUR: UsageGranularity
USAGE_GRANULARITY_DAY: UsageGranularity

class ApiKey(_message.Message):
    __slots__ = ("id", "organization_id", "name", "mode", "kind", "scopes", "workspace_id", "hint", "active", "enabled", "metadata", "expires_at", "last_used_at", "created_at", "updated_at", "revoked_at", "rate_limit", "ip_allowlist", "credits")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_ID_FIELD_NUMBER: _ClassVar[int]
    HINT_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    IP_ALLOWLIST_FIELD_NUMBER: _ClassVar[int]
    CREDITS_FIELD_NUMBER: _ClassVar[int]
    id: str
    organization_id: str
    name: str
    mode: _common_pb2.Mode
    kind: _common_pb2.KeyKind
    scopes: _containers.RepeatedScalarFieldContainer[str]
    workspace_id: str
    hint: str
    active: bool
    enabled: bool
    metadata: _containers.ScalarMap[str, str]
    expires_at: _timestamp_pb2.Timestamp
    last_used_at: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    revoked_at: _timestamp_pb2.Timestamp
    rate_limit: _organization_pb2.RateLimitPlan
    ip_allowlist: _containers.RepeatedScalarFieldContainer[str]
    credits: Credits
    def __init__(self, id: _Optional[str] = ..., organization_id: _Optional[str] = ..., name: _Optional[str] = ..., mode: _Optional[_Union[_common_pb2.Mode, str]] = ..., kind: _Optional[_Union[_common_pb2.KeyKind, str]] = ..., scopes: _Optional[_Iterable[str]] = ..., workspace_id: _Optional[str] = ..., hint: _Optional[str] = ..., active: _Optional[bool] = ..., enabled: _Optional[bool] = ..., metadata: _Optional[_Mapping[str, str]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_used_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., rate_limit: _Optional[_Union[_organization_pb2.RateLimitPlan, _Mapping]] = ..., ip_allowlist: _Optional[_Iterable[str]] = ..., credits: _Optional[_Union[Credits, _Mapping]] = ...) -> None: ...

class Refill(_message.Message):
    __slots__ = ("interval", "amount")
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    interval: RefillInterval
    amount: int
    def __init__(self, interval: _Optional[_Union[RefillInterval, str]] = ..., amount: _Optional[int] = ...) -> None: ...

class Credits(_message.Message):
    __slots__ = ("remaining", "refill")
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    REFILL_FIELD_NUMBER: _ClassVar[int]
    remaining: int
    refill: Refill
    def __init__(self, remaining: _Optional[int] = ..., refill: _Optional[_Union[Refill, _Mapping]] = ...) -> None: ...

class CreateApiKeyRequest(_message.Message):
    __slots__ = ("organization_id", "name", "mode", "kind", "scopes", "workspace_id", "metadata", "expires_at", "rate_limit", "ip_allowlist", "credits")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    IP_ALLOWLIST_FIELD_NUMBER: _ClassVar[int]
    CREDITS_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    name: str
    mode: _common_pb2.Mode
    kind: _common_pb2.KeyKind
    scopes: _containers.RepeatedScalarFieldContainer[str]
    workspace_id: str
    metadata: _containers.ScalarMap[str, str]
    expires_at: _timestamp_pb2.Timestamp
    rate_limit: _organization_pb2.RateLimitPlan
    ip_allowlist: _containers.RepeatedScalarFieldContainer[str]
    credits: Credits
    def __init__(self, organization_id: _Optional[str] = ..., name: _Optional[str] = ..., mode: _Optional[_Union[_common_pb2.Mode, str]] = ..., kind: _Optional[_Union[_common_pb2.KeyKind, str]] = ..., scopes: _Optional[_Iterable[str]] = ..., workspace_id: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., rate_limit: _Optional[_Union[_organization_pb2.RateLimitPlan, _Mapping]] = ..., ip_allowlist: _Optional[_Iterable[str]] = ..., credits: _Optional[_Union[Credits, _Mapping]] = ...) -> None: ...

class CreateApiKeyResponse(_message.Message):
    __slots__ = ("api_key", "key")
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    api_key: ApiKey
    key: str
    def __init__(self, api_key: _Optional[_Union[ApiKey, _Mapping]] = ..., key: _Optional[str] = ...) -> None: ...

class GetApiKeyRequest(_message.Message):
    __slots__ = ("organization_id", "id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    id: str
    def __init__(self, organization_id: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class GetApiKeyResponse(_message.Message):
    __slots__ = ("api_key",)
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    api_key: ApiKey
    def __init__(self, api_key: _Optional[_Union[ApiKey, _Mapping]] = ...) -> None: ...

class ListApiKeysRequest(_message.Message):
    __slots__ = ("organization_id", "page_size", "page_token", "mode", "active")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    page_size: int
    page_token: str
    mode: _common_pb2.Mode
    active: bool
    def __init__(self, organization_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., mode: _Optional[_Union[_common_pb2.Mode, str]] = ..., active: _Optional[bool] = ...) -> None: ...

class ListApiKeysResponse(_message.Message):
    __slots__ = ("api_keys", "next_page_token")
    API_KEYS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    api_keys: _containers.RepeatedCompositeFieldContainer[ApiKey]
    next_page_token: str
    def __init__(self, api_keys: _Optional[_Iterable[_Union[ApiKey, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateApiKeyRequest(_message.Message):
    __slots__ = ("organization_id", "id", "name", "scopes", "metadata", "enabled", "update_mask", "ip_allowlist", "credits")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    IP_ALLOWLIST_FIELD_NUMBER: _ClassVar[int]
    CREDITS_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    id: str
    name: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    metadata: _containers.ScalarMap[str, str]
    enabled: bool
    update_mask: _field_mask_pb2.FieldMask
    ip_allowlist: _containers.RepeatedScalarFieldContainer[str]
    credits: Credits
    def __init__(self, organization_id: _Optional[str] = ..., id: _Optional[str] = ..., name: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., enabled: _Optional[bool] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., ip_allowlist: _Optional[_Iterable[str]] = ..., credits: _Optional[_Union[Credits, _Mapping]] = ...) -> None: ...

class UpdateApiKeyResponse(_message.Message):
    __slots__ = ("api_key",)
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    api_key: ApiKey
    def __init__(self, api_key: _Optional[_Union[ApiKey, _Mapping]] = ...) -> None: ...

class RevokeApiKeyRequest(_message.Message):
    __slots__ = ("organization_id", "id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    id: str
    def __init__(self, organization_id: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class RevokeApiKeyResponse(_message.Message):
    __slots__ = ("api_key",)
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    api_key: ApiKey
    def __init__(self, api_key: _Optional[_Union[ApiKey, _Mapping]] = ...) -> None: ...

class RollApiKeyRequest(_message.Message):
    __slots__ = ("organization_id", "id", "grace_period")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    GRACE_PERIOD_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    id: str
    grace_period: _duration_pb2.Duration
    def __init__(self, organization_id: _Optional[str] = ..., id: _Optional[str] = ..., grace_period: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class RollApiKeyResponse(_message.Message):
    __slots__ = ("api_key", "key")
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    api_key: ApiKey
    key: str
    def __init__(self, api_key: _Optional[_Union[ApiKey, _Mapping]] = ..., key: _Optional[str] = ...) -> None: ...

class GetApiKeyUsageRequest(_message.Message):
    __slots__ = ("organization_id", "id", "start", "end", "granularity")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    GRANULARITY_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    id: str
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    granularity: UsageGranularity
    def __init__(self, organization_id: _Optional[str] = ..., id: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., granularity: _Optional[_Union[UsageGranularity, str]] = ...) -> None: ...

class UsageBucket(_message.Message):
    __slots__ = ("start", "allowed", "denied", "denied_by_code")
    class DeniedByCodeEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    START_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    DENIED_FIELD_NUMBER: _ClassVar[int]
    DENIED_BY_CODE_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    allowed: int
    denied: int
    denied_by_code: _containers.ScalarMap[str, int]
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., allowed: _Optional[int] = ..., denied: _Optional[int] = ..., denied_by_code: _Optional[_Mapping[str, int]] = ...) -> None: ...

class GetApiKeyUsageResponse(_message.Message):
    __slots__ = ("buckets",)
    BUCKETS_FIELD_NUMBER: _ClassVar[int]
    buckets: _containers.RepeatedCompositeFieldContainer[UsageBucket]
    def __init__(self, buckets: _Optional[_Iterable[_Union[UsageBucket, _Mapping]]] = ...) -> None: ...
