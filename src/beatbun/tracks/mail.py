"""What the tracks domain tells people by email: free-plan tracks about to be deleted."""

from __future__ import annotations

from beatbun.i18n import N_
from beatbun.mail.compose import AccountMail
from beatbun.mail.notices import HOUR, Notice

TRACKS_EXPIRING_3D = AccountMail(
    subject=N_("Some of your %(site)s tracks will be deleted in 3 days"),
    body=N_(
        "Tracks made on the Free plan are kept for 14 days. These will be deleted on the day"
        " shown:\n\n%(tracks)s\n\nKeep them: on a paid plan, every track you made is kept for"
        " as long as your account exists.\n\n%(link)s"
    ),
)
TRACKS_EXPIRING_1D = AccountMail(
    subject=N_("Some of your %(site)s tracks will be deleted tomorrow"),
    body=N_(
        "Tracks made on the Free plan are kept for 14 days. These will be deleted within a"
        " day:\n\n%(tracks)s\n\nKeep them: on a paid plan, every track you made is kept for as"
        " long as your account exists.\n\n%(link)s"
    ),
)
# One line of the list: a track's title and the day it goes.
TRACK_LINE = N_("- %(title)s (%(date)s)")
# The last line, when more tracks go than the email lists.
MORE_TRACKS = N_("+ %(count)s more in your library")

TRACK_EXPIRING_3D = Notice(
    kind="track_expiring_3d",
    label=N_("Tracks on the Free plan that will be deleted in 3 days"),
    mail=TRACKS_EXPIRING_3D,
    cap_seconds=20 * HOUR,
)
TRACK_EXPIRING_1D = Notice(
    kind="track_expiring_1d",
    label=N_("The same tracks again, a day before they are deleted"),
    mail=TRACKS_EXPIRING_1D,
    cap_seconds=20 * HOUR,
)
