"""Step 1: the target (never its password), its server, pgvector, schemas; the export folder."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Input, Label, Static

from aria_tui.ui.screens.base import StepScreen


class ConnectScreen(StepScreen):
    STEP = "connect"
    HELP = (
        "Connect to the target and choose the export folder. The target is the embedded "
        "PostgreSQL by default, or --dsn / ARIA_TUI_DSN / libpq's PG* variables. A password is "
        "never shown. When the target lacks the profile's schemas, b creates them (idempotent)."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reconnect", "Retry", id="connect"),
        Binding("b", "bootstrap", "Bootstrap", id="bootstrap"),
        Binding("e", "edit_export", "Folder", id="edit-export"),
        Binding("t", "edit_target", "Target", id="edit-target"),
    ]

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="connect-body"):
            yield Static(id="target-info")
            yield Static(id="bootstrap-hint")
            yield Label("Export folder (enter to use it):", classes="field-label")
            yield Input(
                value=str(self.state.export_dir or ""),
                placeholder="/path/to/export (one CSV per table)",
                id="export-input",
                select_on_focus=False,
                compact=True,
            )
            yield Label("Target: embedded, embedded:DIR, or a libpq DSN (enter to connect):", classes="field-label")
            # never pre-filled: a DSN given on the command line may carry a password
            yield Input(placeholder="", id="dsn-input", compact=True)

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = self.wizard.blink
        self.focus_main()
        super().on_mount()

    # -- state → widgets ----------------------------------------------------------------------------

    def sync(self) -> None:
        state = self.state
        connection = state.connection
        info = Table.grid(padding=(0, 2))
        info.add_column(style="bold", no_wrap=True)
        info.add_column()
        connecting = self.wizard.busy("connect") or self.wizard.busy("bootstrap")
        dsn_input = self.query_one("#dsn-input", Input)
        if connection is None:
            info.add_row("Target", Text("connecting…" if connecting else "not connected", style="italic"))
            dsn_input.placeholder = "embedded (default)"
        else:
            catalog = connection.catalog
            info.add_row("Target", Text(connection.target.display))
            info.add_row("Server", f"PostgreSQL {catalog.server_version}")
            vector = catalog.extensions.get("vector")
            info.add_row(
                "pgvector",
                Text(f"✓ {vector}", style="green") if vector else Text("✗ not installed", style="red"),
            )
            info.add_row("Schemas", self._schemas_text())
            profile = connection.profile
            info.add_row(
                "Profile",
                f"{profile.name} — {profile.title}" if profile else "none (generic: any export, any target)",
            )
            dsn_input.placeholder = connection.target.display
        export = Text(str(state.export_dir) if state.export_dir else "not chosen — press e", no_wrap=False)
        if connection is not None:
            if connection.export_error:
                export.append(f"\n{connection.export_error}", style="red")
            else:
                export.append(f"  ({connection.export_files} CSV files)", style="dim")
        info.add_row("Export", export)
        self.query_one("#target-info", Static).update(info)

        hint = self.query_one("#bootstrap-hint", Static)
        if connection is not None and connection.needs_bootstrap and connection.profile is not None:
            missing = ", ".join(connection.missing_schemas) or "some of its tables"
            hint.update(
                Text.assemble(
                    ("The target lacks ", ""),
                    (missing, "bold"),
                    (f". Press b to create the {connection.profile.name} schema (safe to repeat).", ""),
                )
            )
            hint.display = True
        else:
            hint.display = False

        if connecting:
            self.status("Connecting…" if self.wizard.busy("connect") else "Bootstrapping…")
        elif connection is None:
            self.status("Not connected: r retries, t changes the target.", error=True)
        elif self.can_next():
            self.status("Ready: n for the inventory.")
        elif connection.needs_bootstrap:
            self.status("The target needs the profile schema first: b bootstraps it.")
        elif connection.export_error and state.export_dir is not None:
            self.status("The export folder is unusable: e to change it, then enter.", error=True)
        else:
            self.status("Choose an export folder: e, type the path, enter.")

    def _schemas_text(self) -> Text:
        connection = self.state.connection
        assert connection is not None
        found = set(connection.catalog.schemas)
        text = Text()
        wanted = list(connection.profile.schemas) if connection.profile else []
        for name in wanted:
            ok = name in found
            text.append(f"{'✓' if ok else '✗'} {name}  ", style="green" if ok else "red")
        others = sorted(found - set(wanted))
        if others:
            text.append(("others: " if wanted else "") + ", ".join(others), style="dim")
        elif not wanted:
            text.append("none", style="dim")
        return text

    # -- actions ---------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        busy = self.wizard.busy("connect") or self.wizard.busy("bootstrap")
        if action == "bootstrap":
            connection = self.state.connection
            if connection is None or connection.profile is None or not connection.needs_bootstrap:
                return False  # nothing to bootstrap: the key would only distract
            return None if busy else True
        if action == "reconnect":
            return None if busy else True
        if action == "next" and busy:
            return None
        return super().check_action(action, parameters)

    def action_reconnect(self) -> None:
        self.wizard.connect_target()

    def action_bootstrap(self) -> None:
        self.wizard.bootstrap_target()

    # set_focus, not focus(): focus() is deferred, and keys typed right after the
    # shortcut (a paste, a fast typist over SSH) would land on the step's bindings instead
    def action_edit_export(self) -> None:
        self.set_focus(self.query_one("#export-input", Input))

    def action_edit_target(self) -> None:
        self.set_focus(self.query_one("#dsn-input", Input))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if event.input.id == "export-input":
            if not value:
                return
            self.state.export_dir = Path(value).expanduser().resolve()
            self.state.inventory = None
            self.state.invalidate_plan()
        elif event.input.id == "dsn-input":
            self.state.dsn = value or None
            event.input.value = ""  # do not keep a typed password on screen
            self.state.connection = None
        self.focus_main()
        self.wizard.connect_target()

    def focus_main(self) -> None:
        self.query_one("#connect-body").focus()
