"""Managing workspaces from the command line, for whoever runs Handoff (before the pages
offer it, and for a workspace whose owners have all left).

    .venv/bin/python -m handoff.workspace_admin create team "Revenue team" cmo@acme.com
    .venv/bin/python -m handoff.workspace_admin member team sales@acme.com editor --as cmo@acme.com
    .venv/bin/python -m handoff.workspace_admin remove team sales@acme.com --as cmo@acme.com
    .venv/bin/python -m handoff.workspace_admin show team --as cmo@acme.com

Changes go through the same role checks as the app: `--as` names an owner.
"""

from __future__ import annotations

import argparse
import sys

from handoff import workspace_versions, workspaces
from handoff.workspace_store import WorkspaceError, workspace_handle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m handoff.workspace_admin")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="a new workspace and its first owner")
    create.add_argument("workspace")
    create.add_argument("name")
    create.add_argument("owner")
    member = sub.add_parser("member", help="add a member or change their role")
    member.add_argument("workspace")
    member.add_argument("email")
    member.add_argument("role", choices=workspaces.ROLES)
    member.add_argument("--as", dest="by", required=True)
    remove = sub.add_parser("remove", help="remove a member")
    remove.add_argument("workspace")
    remove.add_argument("email")
    remove.add_argument("--as", dest="by", required=True)
    show = sub.add_parser("show", help="members and versions")
    show.add_argument("workspace")
    show.add_argument("--as", dest="by", required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "create":
            workspaces.create_workspace(args.workspace, args.name, args.owner)
            print(f"created workspace '{args.workspace}', owned by {args.owner}")
            return 0
        ws = workspace_handle(args.workspace)
        if args.command == "member":
            workspaces.set_member(ws, args.by, args.email, args.role)
        elif args.command == "remove":
            workspaces.remove_member(ws, args.by, args.email)
        for m in workspaces.members(ws, args.by):
            print(f"{m.role:7} {m.email}  (added by {m.added_by}, {m.added_at})")
        if args.command == "show":
            for v in workspace_versions.versions(ws, args.by):
                print(f"{'*' if v.current else ' '} {v.label()} [{v.status}]")
    except WorkspaceError as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
