"""What the kernel plane keeps on disk so that a restarted daemon can take
over its nftables table and live flows: the table (as ipvsadm-save rules),
the real servers' ids (the marks of their flows) and the timeout generation."""

from __future__ import annotations

import json
import os

from pylvs.core.model import DestKey, ServiceKey

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

    def load_rules(self) -> str | None:
        rules = self._data.get("rules")
        return rules if isinstance(rules, str) else None

    def save(self, ids: IdMap, timeout_gen: int, rules: str | None = None) -> None:
        self.dirty = False
        if not self.path:
            return
        data = {
            "ids": [[list(s), list(d), i] for (s, d), i in ids.items()],
            "timeout_gen": timeout_gen,
            "rules": rules if rules is not None else self._data.get("rules"),
        }
        self._data = data
        tmp = f"{self.path}.tmp"
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, self.path)
