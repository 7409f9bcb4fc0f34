"""What the kernel plane keeps on disk so that a restarted daemon can take
over its nftables table and live flows: the table (as ipvsadm-save rules),
the real servers' ids (the marks of their flows), the timeout generation,
the deleted real servers whose flows are being ended — and a journal of the
changes since that snapshot, one line per op written before the change is
acknowledged, so that ``kill -9`` right after a change loses nothing (the
snapshot, costly for a large table, is rewritten at most once a tick)."""

from __future__ import annotations

import contextlib
import json
import os
from typing import IO, Any

from pylvs.core.model import DestKey, ServiceKey
from pylvs.core.opcodec import op_from_json, op_to_json
from pylvs.core.ops import Op

__all__ = ["PlaneState"]

IdMap = dict[tuple[ServiceKey, DestKey], int]


class PlaneState:
    def __init__(self, path: str | None) -> None:
        self.path = path
        self.dirty = False
        self.timeout_gen = 0
        self._data: dict[str, object] = {}
        if path and os.path.exists(path):
            try:
                with open(path, encoding="utf-8") as f:
                    self._data = json.load(f)
            except (OSError, ValueError):
                self._data = {}
        gen = self._data.get("timeout_gen", 0)
        self.timeout_gen = gen if isinstance(gen, int) else 0
        seq = self._data.get("seq", 0)
        self.seq = seq if isinstance(seq, int) else 0
        self._journal: IO[str] | None = None

    @property
    def journal_path(self) -> str | None:
        return f"{self.path}.journal" if self.path else None

    def journal(self, op: Op) -> None:
        """Append one applied op (flushed to the kernel's page cache, which
        outlives the process)."""
        self._append(op_to_json(op))

    def journal_id(self, key: ServiceKey, dkey: DestKey, ident: int) -> None:
        """A real server's new id (the mark its flows carry in the kernel)."""
        self._append({"id": [list(key), list(dkey), ident]})

    def _append(self, record: object) -> None:
        path = self.journal_path
        if path is None:
            return
        if self._journal is None:
            self._journal = open(path, "a", encoding="utf-8")  # noqa: SIM115 (kept open)
        self.seq += 1
        self._journal.write(json.dumps([self.seq, record]) + "\n")
        self._journal.flush()

    def load_journal(self) -> tuple[list[Op], IdMap]:
        """The ops applied and the ids given after the snapshot was taken."""
        path = self.journal_path
        ops: list[Op] = []
        ids: IdMap = {}
        if path is None or not os.path.exists(path):
            return ops, ids
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    seq, record = json.loads(line)
                    if not isinstance(seq, int) or seq <= self.seq:
                        continue
                    if isinstance(record, dict):
                        key, dkey, ident = record["id"]
                        ids[(ServiceKey(*key), DestKey(*dkey))] = int(ident)
                    else:
                        ops.append(op_from_json(record))
                except (ValueError, TypeError, KeyError):
                    continue  # a line cut short by the kill
        return ops, ids

    def mark_dirty(self) -> None:
        self.dirty = True

    def load_ids(self) -> IdMap:
        out: IdMap = {}
        rows = self._data.get("ids", [])
        if not isinstance(rows, list):
            return out
        for row in rows:
            try:
                s, d, ident = row
                out[(ServiceKey(*s), DestKey(*d))] = int(ident)
            except (TypeError, ValueError):
                continue
        return out

    def load_buried(self) -> set[int]:
        rows = self._data.get("buried", [])
        return {int(i) for i in rows if isinstance(i, int)} if isinstance(rows, list) else set()

    def load_rules(self) -> str | None:
        rules = self._data.get("rules")
        return rules if isinstance(rules, str) else None

    def save(
        self,
        ids: IdMap,
        timeout_gen: int,
        rules: str | None = None,
        buried: set[int] | None = None,
    ) -> None:
        self.dirty = False
        if not self.path:
            return
        data: dict[str, Any] = {
            "seq": self.seq,
            "ids": [[list(s), list(d), i] for (s, d), i in ids.items()],
            "timeout_gen": timeout_gen,
            "rules": rules if rules is not None else self._data.get("rules"),
            "buried": sorted(buried or ()),
        }
        self._data = data
        tmp = f"{self.path}.tmp"
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, self.path)
        # Everything journalled so far is in the snapshot now.
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self.journal_path:
            with contextlib.suppress(OSError):
                os.truncate(self.journal_path, 0)
