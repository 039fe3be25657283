from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Mode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODE_UNSPECIFIED: _ClassVar[Mode]
    MODE_LIVE: _ClassVar[Mode]
    MODE_TEST: _ClassVar[Mode]

class KeyKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    KEY_KIND_UNSPECIFIED: _ClassVar[KeyKind]
    KEY_KIND_STANDARD: _ClassVar[KeyKind]
    KEY_KIND_MASTER: _ClassVar[KeyKind]
MODE_UNSPECIFIED: Mode
MODE_LIVE: Mode
MODE_TEST: Mode
KEY_KIND_UNSPECIFIED: KeyKind
KEY_KIND_STANDARD: KeyKind
KEY_KIND_MASTER: KeyKind

class Header(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
