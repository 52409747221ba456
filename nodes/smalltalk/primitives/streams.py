"""ReadStream / WriteStream / ReadWriteStream, the Transcript, and Smalltalk.

Appending to a stream over a String collects pieces (see StStream.flush), so
`String streamContents:` stays linear; any other access flushes first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..classes import SYSTEM_CLASSES as S
from ..classes import global_named
from ..kernel import new_string
from ..limits import check_string, current_allowance
from ..objects import Char, StStream, StString
from ..printing import write_print_to_stream
from ._registry import borrows_strings, positional_primitive, primitive, usual_case
from .support import (
    Args,
    elements,
    make_read_stream,
    make_write_stream,
    read_stream_items,
    size_of,
    stream_contents,
    text_of,
    touch,
)

if TYPE_CHECKING:
    from ..runtime import Interpreter

_READ = S["ReadStream"]
_WRITE = S["WriteStream"]
_READ_WRITE = S["ReadWriteStream"]
_WIDE = S["WideString"]


def _is_text(stream: StStream) -> bool:
    return type(stream.coll) is StString


def _element(stream: StStream, index: int) -> Any:
    stream.flush()
    coll: Any = stream.coll
    if type(coll) is StString:
        return Char.of(ord(coll.chars[index]))
    return coll.items[index]


def write_text(it: Interpreter, stream: StStream, text: str) -> None:
    coll: Any = stream.coll
    pos = stream.pos
    pending = stream.pending
    if (
        pending  # appending at the end, nothing to write down, byte text: just collect
        and pos == stream.limit
        and stream.oid is None
        and coll.oid is None
        and text.isascii()
        and type(coll) is StString
    ):
        end = pos + len(text)
        if end > 65536 and end > current_allowance().max_string:
            check_string(end)
        pending.append(text)
        stream.pos = stream.limit = end
        return
    if type(coll) is not StString:
        for ch in text:
            write_item(it, stream, Char.of(ord(ch)))
        return
    if stream.oid is not None:
        it.touch(stream)
    if coll.oid is not None:
        it.touch(coll)
    pos = stream.pos
    end = pos + len(text)
    if end > 65536 and end > current_allowance().max_string:
        check_string(end)
    if pos == stream.limit and (stream.pending or pos == len(coll.chars)):
        stream.pending.append(text)
    else:
        stream.flush()
        chars = coll.chars
        coll.chars = chars[:pos] + text + chars[end:]
    if not text.isascii() and max(text) > "\xff" and coll.cls is not _WIDE:
        coll.cls = _WIDE
    stream.pos = end
    if end > stream.limit:
        stream.limit = end


def write_item(it: Interpreter, stream: StStream, item: Any) -> None:
    coll: Any = stream.coll
    if type(coll) is StString:
        if type(item) is not Char:
            it.error("Error", "Improper store into indexable object")
            return
        write_text(it, stream, item.text)
        return
    touch(it, stream)
    touch(it, coll)
    items = coll.items
    if stream.pos == len(items):
        items.append(item)
    else:
        items[stream.pos] = item
    stream.pos += 1
    stream.limit = max(stream.limit, stream.pos)


# ---------------------------------------------------------------------- class side


@primitive("ReadStream class", "on:")
def _read_on(it: Interpreter, rcv: Any, args: Args) -> Any:
    return make_read_stream(it, args[0])


@primitive("ReadStream class", "on:from:to:")
def _read_on_from_to(it: Interpreter, rcv: Any, args: Args) -> Any:
    stream = make_read_stream(it, args[0])
    stream.pos = args[1] - 1
    stream.limit = args[2]
    return stream


@primitive("WriteStream class", "on:")
def _write_on(it: Interpreter, rcv: Any, args: Args) -> Any:
    return make_write_stream(it, rcv, args[0], append=False)


@primitive("WriteStream class", "with:")
def _write_with(it: Interpreter, rcv: Any, args: Args) -> Any:
    return make_write_stream(it, rcv, args[0], append=True)


@primitive("ReadWriteStream class", "on:")
def _read_write_on(it: Interpreter, rcv: Any, args: Args) -> Any:
    return make_write_stream(it, rcv, args[0], append=False)


@primitive("ReadWriteStream class", "with:")
def _read_write_with(it: Interpreter, rcv: Any, args: Args) -> Any:
    return make_write_stream(it, rcv, args[0], append=True)


# ---------------------------------------------------------------------- reading


@primitive("PositionableStream", "next")
def _next(it: Interpreter, rcv: Any, args: Args) -> Any:
    if rcv.pos >= rcv.limit:
        return None
    item = _element(rcv, rcv.pos)
    touch(it, rcv)
    rcv.pos += 1
    return item


@primitive("PositionableStream", "next:")
def _next_n(it: Interpreter, rcv: Any, args: Args) -> Any:
    count = args[0]
    if type(count) is not int or count < 0:
        return it.error("Error", "next: needs a non-negative Integer")
    stop = min(rcv.limit, rcv.pos + count)
    result = read_stream_items(rcv, rcv.pos, stop)
    touch(it, rcv)
    rcv.pos = stop
    return result


@primitive("PositionableStream", "peek")
def _peek(it: Interpreter, rcv: Any, args: Args) -> Any:
    if rcv.pos >= rcv.limit:
        return None
    return _element(rcv, rcv.pos)


@primitive("PositionableStream", "atEnd")
def _at_end(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.pos >= rcv.limit


@primitive("PositionableStream", "notEmpty")
def _not_empty(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.limit > 0


@primitive("PositionableStream", "isEmpty")
def _is_empty(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.limit == 0


@primitive("PositionableStream", "upToEnd")
def _up_to_end(it: Interpreter, rcv: Any, args: Args) -> Any:
    result = read_stream_items(rcv, rcv.pos, rcv.limit)
    touch(it, rcv)
    rcv.pos = rcv.limit
    return result


@primitive("PositionableStream", "upTo:")
def _up_to(it: Interpreter, rcv: Any, args: Args) -> Any:
    start = rcv.pos
    index = start
    while index < rcv.limit and not it.equal(_element(rcv, index), args[0]):
        index += 1
    result = read_stream_items(rcv, start, index)
    touch(it, rcv)
    rcv.pos = min(index + 1, rcv.limit)
    return result


@primitive("PositionableStream", "nextLine")
def _next_line(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _up_to(it, rcv, (Char.of(10),)) if _is_text(rcv) else _up_to_end(it, rcv, ())


@primitive("PositionableStream", "skip:")
def _skip(it: Interpreter, rcv: Any, args: Args) -> Any:
    if type(args[0]) is not int:
        return it.error("Error", "skip: needs an Integer")
    touch(it, rcv)
    rcv.pos = max(0, min(rcv.limit, rcv.pos + args[0]))
    return rcv


@primitive("PositionableStream", "skipSeparators")
def _skip_separators(it: Interpreter, rcv: Any, args: Args) -> Any:
    touch(it, rcv)
    rcv.flush()
    while rcv.pos < rcv.limit and _is_text(rcv) and rcv.coll.chars[rcv.pos].isspace():
        rcv.pos += 1
    return rcv


@primitive("PositionableStream", "position")
def _position(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.pos


@primitive("PositionableStream", "position:")
def _set_position(it: Interpreter, rcv: Any, args: Args) -> Any:
    position = args[0]
    if type(position) is not int or not 0 <= position <= max(rcv.limit, size_of(rcv.coll)):
        return it.error("Error", "Position out of bounds")
    touch(it, rcv)
    rcv.pos = position
    return rcv


@primitive("PositionableStream", "reset")
def _reset(it: Interpreter, rcv: Any, args: Args) -> Any:
    touch(it, rcv)
    rcv.pos = 0
    return rcv


@primitive("PositionableStream", "setToEnd")
def _set_to_end(it: Interpreter, rcv: Any, args: Args) -> Any:
    touch(it, rcv)
    rcv.pos = rcv.limit
    return rcv


@positional_primitive("PositionableStream", "contents")
def _contents(it: Interpreter, rcv: Any) -> Any:
    return stream_contents(it, rcv)


@primitive("PositionableStream", "collection", "originalContents")
def _collection(it: Interpreter, rcv: Any, args: Args) -> Any:
    rcv.flush()
    return rcv.coll


@primitive("PositionableStream", "do:")
def _stream_do(it: Interpreter, rcv: Any, args: Args) -> Any:
    while rcv.pos < rcv.limit:
        item = _element(rcv, rcv.pos)
        touch(it, rcv)
        rcv.pos += 1
        it.call_block(args[0], (item,))
    return rcv


# ---------------------------------------------------------------------- writing


def _writable(it: Interpreter, stream: StStream) -> bool:
    if stream.cls is _READ:
        it.error("Error", "This message is not appropriate for this object")
        return False
    return True


@positional_primitive("PositionableStream", "nextPutAll:")
@borrows_strings
@usual_case("WriteStream", ("any",), text_arg="write_text(it, {r}, {text})")
def _next_put_all(it: Interpreter, rcv: Any, item: Any) -> Any:
    if type(item) is StString and type(rcv.coll) is StString and rcv.cls is not _READ:
        # (the usual case, without the general checks; write_text's first case inline)
        text = item.chars
        pending = rcv.pending
        if (pending and rcv.pos == rcv.limit and rcv.oid is None and rcv.coll.oid is None
                and text.isascii()):
            end = rcv.pos + len(text)
            if end > 65536 and end > current_allowance().max_string:
                check_string(end)
            pending.append(text)
            rcv.pos = rcv.limit = end
            return item
        write_text(it, rcv, text)
        return item
    if not _writable(it, rcv):
        return rcv
    text = text_of(item)
    if text is not None and _is_text(rcv):
        write_text(it, rcv, text)
    else:
        for element in elements(item):
            write_item(it, rcv, element)
    return item


@positional_primitive("PositionableStream", "nextPut:")
@usual_case("WriteStream", ("any",))
def _next_put(it: Interpreter, rcv: Any, item: Any) -> Any:
    if type(item) is Char and type(rcv.coll) is StString and rcv.cls is not _READ:
        # (the usual case, without the general checks; write_text's first case inline)
        text = item.text
        pending = rcv.pending
        if (pending and rcv.pos == rcv.limit and rcv.oid is None and rcv.coll.oid is None
                and text.isascii()):
            end = rcv.pos + 1
            if end > 65536 and end > current_allowance().max_string:
                check_string(end)
            pending.append(text)
            rcv.pos = rcv.limit = end
            return item
        write_text(it, rcv, text)
        return item
    if _writable(it, rcv):
        write_item(it, rcv, item)
    return item


@primitive("PositionableStream", "<<")
def _shift(it: Interpreter, rcv: Any, args: Args) -> Any:
    if not _writable(it, rcv):
        return rcv
    value = args[0]
    text = text_of(value)
    if text is None and _is_text(rcv):
        text = it.display_string(value)
    if text is not None and _is_text(rcv):
        write_text(it, rcv, text)
    else:
        write_item(it, rcv, value)
    return rcv


@primitive("PositionableStream", "print:")
def _print(it: Interpreter, rcv: Any, args: Args) -> Any:
    if _writable(it, rcv):
        write_print_to_stream(it, args[0], rcv)
    return rcv


@primitive("PositionableStream", "display:")
def _display(it: Interpreter, rcv: Any, args: Args) -> Any:
    if _writable(it, rcv):
        write_text(it, rcv, it.display_string(args[0]))
    return rcv


def _literal_writer(text: str) -> Any:
    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        if _writable(it, rcv):
            write_text(it, rcv, text)
        return rcv

    return prim


primitive("PositionableStream", "cr")(_literal_writer("\r"))
primitive("PositionableStream", "lf")(_literal_writer("\n"))
primitive("PositionableStream", "tab")(_literal_writer("\t"))
primitive("PositionableStream", "space")(_literal_writer(" "))
primitive("PositionableStream", "crlf")(_literal_writer("\r\n"))


@primitive("PositionableStream", "space:")
def _spaces(it: Interpreter, rcv: Any, args: Args) -> Any:
    if _writable(it, rcv) and type(args[0]) is int:
        write_text(it, rcv, " " * args[0])
    return rcv


@primitive("PositionableStream", "tab:")
def _tabs(it: Interpreter, rcv: Any, args: Args) -> Any:
    if _writable(it, rcv) and type(args[0]) is int:
        write_text(it, rcv, "\t" * args[0])
    return rcv


@primitive("PositionableStream", "newLine", "nl")
def _newline(it: Interpreter, rcv: Any, args: Args) -> Any:
    if _writable(it, rcv):
        write_text(it, rcv, "\n")
    return rcv


# ---------------------------------------------------------------------- Transcript


def _show(it: Interpreter, value: Any) -> None:
    text = text_of(value)
    it.show(text if text is not None else it.display_string(value))


@primitive("ThreadSafeTranscript", "show:", "nextPutAll:", "<<", "display:")
def _transcript_show(it: Interpreter, rcv: Any, args: Args) -> Any:
    _show(it, args[0])
    return rcv


@primitive("ThreadSafeTranscript", "print:")
def _transcript_print(it: Interpreter, rcv: Any, args: Args) -> Any:
    it.show(it.print_string(args[0]))
    return rcv


@primitive("ThreadSafeTranscript", "nextPut:")
def _transcript_next_put(it: Interpreter, rcv: Any, args: Args) -> Any:
    char = args[0]
    it.show(char.text if type(char) is Char else it.display_string(char))
    return rcv


@primitive("ThreadSafeTranscript", "cr", "lf", "newLine")
def _transcript_cr(it: Interpreter, rcv: Any, args: Args) -> Any:
    it.show("\n")
    return rcv


@primitive("ThreadSafeTranscript", "tab")
def _transcript_tab(it: Interpreter, rcv: Any, args: Args) -> Any:
    it.show("\t")
    return rcv


@primitive("ThreadSafeTranscript", "space")
def _transcript_space(it: Interpreter, rcv: Any, args: Args) -> Any:
    it.show(" ")
    return rcv


@primitive("ThreadSafeTranscript", "crShow:", "showCr:")
def _transcript_cr_show(it: Interpreter, rcv: Any, args: Args) -> Any:
    it.show("\n")
    _show(it, args[0])
    return rcv


@primitive("ThreadSafeTranscript", "traceCr:", "crTrace:", "showln:")
def _transcript_show_ln(it: Interpreter, rcv: Any, args: Args) -> Any:
    _show(it, args[0])
    it.show("\n")
    return rcv


@primitive("ThreadSafeTranscript", "flush", "endEntry", "ensureCr", "clear", "open")
def _transcript_noop(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv


# ---------------------------------------------------------------------- Smalltalk


@primitive("SmalltalkImage", "at:")
def _smalltalk_at(it: Interpreter, rcv: Any, args: Args) -> Any:
    name = text_of(args[0])
    value = it.global_value(name) if name is not None else None
    if value is None and (name is None or name not in it.workspace):
        return it.error("KeyNotFound", None, key=args[0])
    return value


@primitive("SmalltalkImage", "at:ifAbsent:")
def _smalltalk_at_if_absent(it: Interpreter, rcv: Any, args: Args) -> Any:
    name = text_of(args[0])
    value = it.global_value(name) if name is not None else None
    if value is None and (name is None or name not in it.workspace):
        return it.send(args[1], "value", ())
    return value


@primitive("SmalltalkImage", "at:put:")
def _smalltalk_at_put(it: Interpreter, rcv: Any, args: Args) -> Any:
    name = text_of(args[0])
    if name is None or global_named(name) is not None or name in it.classes:
        return it.error("Error", f"Cannot store into {name}")
    it.workspace[name] = args[1]
    it.workspace_changed = True
    return args[1]


@primitive("SmalltalkImage", "includesKey:", "hasClassNamed:")
def _smalltalk_includes_key(it: Interpreter, rcv: Any, args: Args) -> Any:
    name = text_of(args[0])
    return name is not None and (it.global_value(name) is not None or name in it.workspace)


@primitive("SmalltalkImage", "version")
def _smalltalk_version(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string("Pharo-12.0 (STUI evaluator)")


# ---------------------------------------------------------------------- searching


@primitive("PositionableStream", "skipTo:")
def _skip_to(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Move past the next occurrence of the element; false (at the end) if none."""
    touch(it, rcv)
    while rcv.pos < rcv.limit:
        item = _element(rcv, rcv.pos)
        rcv.pos += 1
        if it.equal(item, args[0]):
            return True
    return False


@primitive("PositionableStream", "peekFor:")
def _peek_for(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Consume the next element if it equals the argument; answer whether it did."""
    if rcv.pos >= rcv.limit or not it.equal(_element(rcv, rcv.pos), args[0]):
        return False
    touch(it, rcv)
    rcv.pos += 1
    return True


@primitive("PositionableStream", "upToAll:")
def _up_to_all(it: Interpreter, rcv: Any, args: Args) -> Any:
    """The elements before the next occurrence of the subsequence (the stream is left
    after it), or up to the end when it does not occur."""
    rcv.flush()
    run = elements(args[0])
    start = rcv.pos
    items = [_element(rcv, i) for i in range(start, rcv.limit)]
    found = -1
    for index in range(len(items) - len(run) + 1):
        if run and all(it.equal(items[index + k], run[k]) for k in range(len(run))):
            found = index
            break
    touch(it, rcv)
    if found < 0:
        rcv.pos = rcv.limit
        return read_stream_items(rcv, start, rcv.limit)
    rcv.pos = start + found + len(run)
    return read_stream_items(rcv, start, start + found)


@primitive("PositionableStream", "back")
def _back(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Step back one element and answer it."""
    if rcv.pos == 0:
        return it.error("Error", "CantGoBack")
    touch(it, rcv)
    rcv.pos -= 1
    return _element(rcv, rcv.pos)
