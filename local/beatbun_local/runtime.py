"""The local runtime: every binding backed by files under one state folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from beatbun.runtime.actors import Actor
from beatbun.runtime.base import Clock, Fetcher, Runtime
from beatbun.runtime.clock import SystemClock
from beatbun.settings import Settings
from beatbun_local.actors import LocalActorNamespace
from beatbun_local.blobs import LocalBlobStore
from beatbun_local.cipher import CryptographyCipher
from beatbun_local.database import LocalDatabase
from beatbun_local.fetch import HttpxFetcher
from beatbun_local.kdf import HashlibKeyDerivation
from beatbun_local.mail import LocalOutbox


@dataclass
class LocalRuntime(Runtime):
    db: LocalDatabase
    blobs: LocalBlobStore
    user_queues: LocalActorNamespace
    mailer: LocalOutbox
    state_dir: Path

    @classmethod
    def open(
        cls,
        state_dir: Path,
        *,
        settings: Settings,
        user_queue: type[Actor],
        clock: Clock | None = None,
        fetcher: Fetcher | None = None,
    ) -> LocalRuntime:
        """Open (creating if needed) the state folder: `d1/`, `r2/AUDIO/`, `do/UserQueue/`, `outbox/`."""
        clock = clock or SystemClock()
        (state_dir / "d1").mkdir(parents=True, exist_ok=True)
        runtime: LocalRuntime
        queues = LocalActorNamespace(
            user_queue, state_dir / "do" / "UserQueue", clock=clock, runtime=lambda: runtime
        )
        runtime = cls(
            settings=settings,
            db=LocalDatabase(state_dir / "d1" / "DB.sqlite"),
            blobs=LocalBlobStore(state_dir / "r2" / "AUDIO", clock=clock),
            user_queues=queues,
            clock=clock,
            kdf=HashlibKeyDerivation(),
            mailer=LocalOutbox(state_dir / "outbox", sender=settings.mail_from, clock=clock),
            cipher=CryptographyCipher(),
            fetcher=fetcher or HttpxFetcher(),
            state_dir=state_dir,
        )
        return runtime

    def close(self) -> None:
        self.user_queues.close()
        self.blobs.close()
        self.db.close()
