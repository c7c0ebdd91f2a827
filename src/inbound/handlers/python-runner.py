"""Runs Hookyard's Python handlers, one request at a time, for the server that started this process.

The server and this process talk in JSON lines over the pipe (the protocol is in python-pool.ts). Standard library
only: a fresh machine needs nothing from pip. `print` in a handler goes to the server's log, never into the pipe.
"""

import base64
import importlib.util
import inspect
import json
import os
import sys
import traceback

# The protocol keeps the real stdout; fd 1 then points at stderr so nothing a handler (or a C extension) writes
# there can corrupt a message.
_protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
os.dup2(2, 1)
_input = sys.stdin.buffer

_current_run = None
_next_call = 0


def _send(message):
    _protocol.write(json.dumps(message, ensure_ascii=False, allow_nan=False) + "\n")
    _protocol.flush()


def _receive():
    line = _input.readline()
    if not line:
        sys.exit(0)  # the server closed the pipe: it is stopping
    return json.loads(line)


class OperationFailure(Exception):
    """What a document db call that the server refused raises (pymongo's name for it)."""


class DuplicateKeyError(OperationFailure):
    """An insert (or upsert) whose _id is taken."""


class HookyardError(Exception):
    """What a failed `emit` raises."""


def _call(kind, payload, error_type):
    global _next_call
    _next_call += 1
    call_id = _next_call
    _send(dict(payload, t="call", id=call_id, run=_current_run, kind=kind))
    while True:
        message = _receive()
        if message.get("t") == "reply" and message.get("id") == call_id:
            if message.get("ok"):
                return message.get("value")
            if error_type is OperationFailure and message.get("code") == "duplicate_key":
                raise DuplicateKeyError(message.get("error"))
            raise error_type(message.get("error"))


def _log(level, message, fields=None):
    _send({"t": "log", "run": _current_run, "level": level, "message": str(message), "fields": fields or {}})


class _LogStream:
    """sys.stdout/sys.stderr while a handler runs: whole lines become log entries."""

    def __init__(self, level):
        self.level = level
        self.pending = ""

    def write(self, text):
        self.pending += text
        while "\n" in self.pending:
            line, self.pending = self.pending.split("\n", 1)
            _log(self.level, line)
        return len(text)

    def flush(self):
        if self.pending:
            _log(self.level, self.pending)
            self.pending = ""

    def isatty(self):
        return False


# --- the pymongo-shaped client over Hookyard's document db ---------------------------------------------------------


class InsertOneResult:
    def __init__(self, value):
        self.inserted_id = value["inserted_id"]
        self.acknowledged = True


class InsertManyResult:
    def __init__(self, value):
        self.inserted_ids = value["inserted_ids"]
        self.acknowledged = True


class UpdateResult:
    def __init__(self, value):
        self.matched_count = value["matched_count"]
        self.modified_count = value["modified_count"]
        self.upserted_id = value.get("upserted_id")
        self.acknowledged = True
        self.raw_result = value


class DeleteResult:
    def __init__(self, value):
        self.deleted_count = value["deleted_count"]
        self.acknowledged = True
        self.raw_result = value


def _sort_spec(key_or_list, direction=None):
    if isinstance(key_or_list, str):
        return [[key_or_list, 1 if direction is None else direction]]
    if isinstance(key_or_list, dict):
        return [[key, value] for key, value in key_or_list.items()]
    return [[key, value] for key, value in key_or_list]


class Cursor:
    """find()'s result: runs when first iterated, after any sort/skip/limit calls, as pymongo's cursor does."""

    def __init__(self, collection, filter, options):
        self._collection = collection
        self._filter = filter
        self._options = options
        self._documents = None

    def _chain(self, key, value):
        if self._documents is not None:
            raise OperationFailure("cannot change a cursor after it has been iterated")
        self._options[key] = value
        return self

    def sort(self, key_or_list, direction=None):
        return self._chain("sort", _sort_spec(key_or_list, direction))

    def limit(self, count):
        return self._chain("limit", count) if count else self

    def skip(self, count):
        return self._chain("skip", count)

    def _fetch(self):
        if self._documents is None:
            self._documents = self._collection._op("find", self._filter, self._options)
        return self._documents

    def __iter__(self):
        return iter(self._fetch())

    def __getitem__(self, index):
        return self._fetch()[index]

    def to_list(self, length=None):
        documents = list(self._fetch())
        return documents if length is None else documents[:length]


class Collection:
    def __init__(self, name):
        self.name = name

    def _op(self, op, *args):
        return _call("mongo", {"collection": self.name, "op": op, "args": list(args)}, OperationFailure)

    def insert_one(self, document):
        result = InsertOneResult(self._op("insert_one", document))
        document.setdefault("_id", result.inserted_id)  # pymongo sets the new id on the dict it was given
        return result

    def insert_many(self, documents):
        documents = list(documents)
        result = InsertManyResult(self._op("insert_many", documents))
        for document, inserted_id in zip(documents, result.inserted_ids):
            document.setdefault("_id", inserted_id)
        return result

    def find_one(self, filter=None, projection=None, **options):
        if projection is not None:
            options["projection"] = projection
        return self._op("find_one", filter or {}, options)

    def find(self, filter=None, projection=None, sort=None, limit=0, skip=0):
        options = {}
        if projection is not None:
            options["projection"] = projection
        if sort is not None:
            options["sort"] = _sort_spec(sort)
        if limit:
            options["limit"] = limit
        if skip:
            options["skip"] = skip
        return Cursor(self, filter or {}, options)

    def update_one(self, filter, update, upsert=False):
        return UpdateResult(self._op("update_one", filter, update, {"upsert": bool(upsert)}))

    def update_many(self, filter, update, upsert=False):
        return UpdateResult(self._op("update_many", filter, update, {"upsert": bool(upsert)}))

    def delete_one(self, filter):
        return DeleteResult(self._op("delete_one", filter))

    def delete_many(self, filter):
        return DeleteResult(self._op("delete_many", filter))

    def count_documents(self, filter=None):
        return self._op("count_documents", filter or {})


class Database:
    """`mongo_client.db`: collections by item or attribute, as pymongo's Database."""

    def __getitem__(self, name):
        return Collection(name)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return Collection(name)

    def get_collection(self, name):
        return Collection(name)


class MongoClient(Database):
    """Collections straight from the client (`mongo_client["payments"]`, the Data Backbone form) or from `.db`."""

    def __init__(self):
        self.db = Database()

    def get_database(self, name=None):
        return self.db

    get_default_database = get_database


# --- the handler's context --------------------------------------------------------------------------------------------


class _Logger:
    def __call__(self, message, **fields):
        _log("info", message, fields)

    def debug(self, message, **fields):
        _log("debug", message, fields)

    def info(self, message, **fields):
        _log("info", message, fields)

    def warning(self, message, **fields):
        _log("warn", message, fields)

    warn = warning

    def error(self, message, **fields):
        _log("error", message, fields)

    exception = error


class Request:
    def __init__(self, request):
        self.id = request["id"]
        self.method = request["method"]
        self.path = request["path"]
        self.headers = request["headers"]
        self.query = request["query"]
        self.params = request["params"]
        self.body = request.get("body")
        self.raw_body = base64.b64decode(request["rawBody"])


class Context:
    def __init__(self, request):
        self.request = Request(request)
        self.db = MongoClient()
        self.log = _Logger()

    def emit(self, app, event_type, payload):
        return _call("emit", {"app": app, "eventType": event_type, "payload": payload}, HookyardError)


# --- loading and running --------------------------------------------------------------------------------------------

_modules = {}
_loads = 0


def _load(path, version):
    global _loads
    cached = _modules.get(path)
    if cached is not None and cached[0] == version:
        return cached[1]
    # A new module name per version: an edited file is imported afresh, as TS handlers are.
    _loads += 1
    name = "hookyard_handler_%d" % _loads
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _modules[path] = (version, module)
    return module


def _own_function(module, name):
    """A function defined in the handler file itself (not one it imported), and not private."""
    if not name or name.startswith("_") or not name.isidentifier():
        return None
    value = getattr(module, name, None)
    return value if inspect.isfunction(value) and value.__module__ == module.__name__ else None


def _call_handler(module, stem, event, request):
    """Per-event function, then `handler(ctx)`, then the Data Backbone form `<stem>(mongo_client, body, params)`."""
    by_event = _own_function(module, event) if event else None
    if by_event is not None:
        return True, by_event(Context(request))
    handler = _own_function(module, "handler")
    if handler is not None:
        return True, handler(Context(request))
    backbone = _own_function(module, stem)
    if backbone is not None:
        return True, backbone(MongoClient(), request.get("body"), request["query"])
    if event:
        return False, None  # a GitHub handler with no function for this event: skipped, as in TS
    raise LookupError("%s.py defines neither handler(ctx) nor %s(mongo_client, request_body, request_url_params)" % (stem, stem))


def _describe(error, path):
    """`Type: message (file.py line N)`: the line is the deepest frame inside the handler file."""
    line = None
    for frame in traceback.extract_tb(error.__traceback__):
        if os.path.abspath(frame.filename) == path:
            line = frame.lineno
    if line is None and isinstance(error, SyntaxError) and error.lineno:
        line = error.lineno
    text = "%s: %s" % (type(error).__name__, error)
    return text if line is None else "%s (%s line %d)" % (text, os.path.basename(path), line)


def _run(message):
    global _current_run
    _current_run = message["id"]
    path = os.path.abspath(message["file"])
    stem = os.path.splitext(os.path.basename(path))[0]
    sys.stdout, sys.stderr = _LogStream("info"), _LogStream("warn")
    try:
        module = _load(path, message["version"])
        ran, value = _call_handler(module, stem, message.get("event"), message["request"])
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            text = json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as error:
            return {"t": "done", "id": _current_run, "ok": False, "error": "handler output is not JSON-serialisable: %s" % error}
        return {"t": "done", "id": _current_run, "ok": True, "skipped": not ran, "value": json.loads(text)}
    except (Exception, SystemExit) as error:  # noqa: BLE001 - a handler's error (even sys.exit) is reported, never fatal
        sys.stdout.flush()
        sys.stderr.flush()
        _log("debug", "".join(traceback.format_exception(type(error), error, error.__traceback__)).rstrip())
        return {"t": "done", "id": _current_run, "ok": False, "error": _describe(error, path)}
    finally:
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        _current_run = None


def main():
    sys.modules.setdefault("hookyard", sys.modules[__name__])  # `from hookyard import OperationFailure` works
    _send({"t": "ready", "version": list(sys.version_info[:3])})
    while True:
        message = _receive()
        if message.get("t") == "run":
            _send(_run(message))


if __name__ == "__main__":
    main()
