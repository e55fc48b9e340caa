"""Writers: one generated Python function per selection set, a tight loop over the parents.

Per-field dispatch is decided once, when the plan is built, and written out as straight
code (graphql-jit does the same for graphql-js), so writing a flight is one function call
with a dict read, a type check and a dict store per leaf, not several calls per leaf. An
object child that loads nothing below it is written in place, inside the loop; a child
that does load keeps its position and is filled at the next level (`pending`):

    def write(parents, outs, pending):
        for parent, out in zip(parents, outs):
            v = parent['flight_number']
            if type(v) is not str:
                v = slow_1(v)
            out['flightNumber'] = v
            c_2 = get_4(parent)                  # price: read, written in place
            if c_2 is None:
                raise Fallback                   # non-null: null bubbling is the reference's
            else:
                o_3 = {}
                ...
                out['price'] = o_3
            out['hotel'] = None                  # loaded: keeps its position
        pending.append((child_5, parents, outs))
"""

from __future__ import annotations

import itertools
from typing import Any

from gateway.execution.errors import Fallback
from gateway.execution.nodes import Child, Eager, Leaf, Pending, Selection, Write

_FAST_CHECKS = {
    "str": "type(v) is not str",
    "bool": "type(v) is not bool",
    "int": "type(v) is not int or not -2147483648 <= v <= 2147483647",
}


def compile_writer(
    type_name: str, fields: tuple[Leaf | Child, ...], eager: tuple[Eager, ...] = ()
) -> Write:
    source = _Source()
    after: list[str] = []
    lines = ["def write(parents, outs, pending):", "    for parent, out in zip(parents, outs):"]
    lines += source.object_lines(fields, eager, "parent", "out", depth=2, after=after)
    lines.append("        pass")  # a selection of children only still needs a loop body
    text = "\n".join([*lines, *after, ""])
    # Only our own text: keys are GraphQL names and entity keys are repr()-quoted.
    exec(compile(text, f"<writer {type_name}>", "exec"), source.namespace)
    write: Write = source.namespace["write"]
    return write


def _loads_nothing(selection: Selection) -> bool:
    """No field anywhere below needs a load: the whole object can be written in place."""
    return all(
        isinstance(f, Leaf) or (f.load is None and _loads_nothing(f.selection))
        for f in selection.fields
    )


class _Source:
    """The text of one writer: statements, and the namespace its names refer to."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {
            "attach": attach,
            "zip": zip,
            "type": type,
            "Fallback": Fallback,
        }
        self._numbers = itertools.count()

    def name(self, prefix: str, value: Any = None) -> str:
        """A fresh name; bound to `value` in the namespace unless that is None."""
        name = f"{prefix}_{next(self._numbers)}"
        if value is not None:
            self.namespace[name] = value
        return name

    def object_lines(
        self,
        fields: tuple[Leaf | Child, ...],
        eager: tuple[Eager, ...],
        var: str,
        out: str,
        *,
        depth: int,
        after: list[str],
    ) -> list[str]:
        """Statements writing the object `var` into the dict `out`. A child that loads
        nothing, however deep, is written in place; one that does is left for `attach`
        after the loop (`after`), which only the outermost object has."""
        pad = "    " * depth
        lines = self.eager_lines(eager, var, depth=depth)
        for field in fields:
            key = repr(field.key)
            if isinstance(field, Leaf):
                lines += self.leaf_lines(field, var, f"{out}[{key}]", depth=depth)
            elif field.load is None and _loads_nothing(field.selection):
                lines += self.child_lines(field, var, f"{out}[{key}]", depth=depth)
            else:
                assert var == "parent", "only the outermost object has children to attach"
                lines.append(f"{pad}{out}[{key}] = None")  # a child keeps its position
                child = self.name("child", field)
                if field.load is not None:
                    after.append(f"    pending.append(({child}, parents, outs))")
                else:
                    get = self.name("get", field.get)
                    after.append(f"    attach({child}, [{get}(p) for p in parents], outs, pending)")
        return lines

    def child_lines(self, child: Child, var: str, target: str, *, depth: int) -> list[str]:
        """The child object (or list of objects) read or computed from `var`, written."""
        assert child.get is not None
        pad = "    " * depth
        value, obj = self.name("c"), self.name("o")
        fields, eager = child.selection.fields, child.selection.eager
        missing = f"{target} = None" if child.nullable else "raise Fallback"
        lines = [f"{pad}{value} = {self.name('get', child.get)}({var})"]
        lines += [f"{pad}if {value} is None:", f"{pad}    {missing}", f"{pad}else:"]
        if not child.is_list:
            lines.append(f"{pad}    {obj} = {{}}")
            lines += self.object_lines(fields, eager, value, obj, depth=depth + 1, after=[])
            return [*lines, f"{pad}    {target} = {obj}"]
        items, item = self.name("l"), self.name("i")
        absent = (
            [f"{items}.append(None)", "continue"] if child.item_nullable else ["raise Fallback"]
        )
        lines += [
            f"{pad}    {items} = []",
            f"{pad}    for {item} in {value}:",
            f"{pad}        if {item} is None:",
            *(f"{pad}            {statement}" for statement in absent),
            f"{pad}        {obj} = {{}}",
        ]
        lines += self.object_lines(fields, eager, item, obj, depth=depth + 2, after=[])
        return [*lines, f"{pad}        {items}.append({obj})", f"{pad}    {target} = {items}"]

    def eager_lines(self, checks: tuple[Eager, ...], var: str, *, depth: int) -> list[str]:
        """Statements that fail exactly when the reference's check of `var` would."""
        pad, lines = "    " * depth, []
        for check in checks:
            read = f"{var}[{check.key!r}]"
            if check.kind == "read":
                lines.append(f"{pad}{read}")
            elif check.kind == "enum":
                values = self.name("eager", check.values)
                lines += [f"{pad}if {read} not in {values}:", f"{pad}    raise Fallback"]
            elif check.kind == "date":
                lines.append(f"{pad}{self.name('eager', check.parse)}({read})")
            elif check.kind == "compute":
                lines.append(f"{pad}{self.name('eager', check.fn)}({var})")
            else:  # nested: the object the reference checks at `key`
                nested = self.name("eager")
                lines.append(f"{pad}{nested} = {read}")
                lines += self.eager_lines(check.nested, nested, depth=depth)
        return lines

    def leaf_lines(self, leaf: Leaf, var: str, target: str, *, depth: int) -> list[str]:
        pad = "    " * depth
        if leaf.constant is not None:
            return [f"{pad}{target} = {leaf.constant!r}"]
        slow = self.name("slow", leaf.slow)
        if leaf.read is not None:
            lines = [f"{pad}v = {var}[{leaf.read!r}]"]
        else:
            lines = [f"{pad}v = {self.name('get', leaf.get)}({var})"]
        if leaf.fast == "enum" and leaf.names is not None:
            names = self.name("names", leaf.names)
            lines += [
                f"{pad}w = {names}.get(v) if type(v) is str else None",
                f"{pad}v = w if w is not None else {slow}(v)",
            ]
        elif leaf.fast == "iso" and leaf.iso is not None:
            lines.append(
                f"{pad}v = {self.name('iso', leaf.iso)}(v) if type(v) is str else {slow}(v)"
            )
        elif leaf.fast in _FAST_CHECKS:
            lines += [f"{pad}if {_FAST_CHECKS[leaf.fast]}:", f"{pad}    v = {slow}(v)"]
        else:
            lines.append(f"{pad}v = {slow}(v)")
        lines.append(f"{pad}{target} = v")
        return lines


def attach(child: Child, values: Any, outs: list[dict[str, Any]], pending: Pending) -> None:
    """Put each parent's value under the child's key; the child's own fields are written
    now (reads and computations) or at the next level (loads, via `pending`)."""
    key = child.key
    objects: list[Any] = []
    written: list[dict[str, Any]] = []
    if child.is_list and not child.item_nullable:  # the common list: in C where it can be
        for value, out in zip(values, outs, strict=True):
            if value is None:
                if not child.nullable:
                    raise Fallback
                continue
            if None in value:
                raise Fallback
            targets: list[dict[str, Any]] = [{} for _ in value]
            out[key] = targets
            objects += value
            written += targets
        if objects:
            child.selection.write(objects, written, pending)
        return
    for value, out in zip(values, outs, strict=True):
        if value is None:
            if not child.nullable:
                raise Fallback
            continue  # the placeholder is the answer
        if child.is_list:
            items: list[dict[str, Any] | None] = []
            for item in value:
                if item is None:
                    if not child.item_nullable:
                        raise Fallback
                    items.append(None)
                    continue
                target: dict[str, Any] = {}
                items.append(target)
                objects.append(item)
                written.append(target)
            out[key] = items
        else:
            target = {}
            out[key] = target
            objects.append(value)
            written.append(target)
    if objects:
        child.selection.write(objects, written, pending)
