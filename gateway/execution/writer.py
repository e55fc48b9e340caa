"""Writers: one generated Python function per selection set, a tight loop over the parents.

Per-field dispatch is decided once, when the plan is built, and written out as straight
code (graphql-jit does the same for graphql-js), so writing a flight is one function call
with a dict read, a type check and a dict store per leaf, not several calls per leaf:

    def write(parents, outs, pending):
        for parent, out in zip(parents, outs):
            v = parent['flight_number']
            if type(v) is not str:
                v = slow_1(v)
            out['flightNumber'] = v
            out['price'] = None                 # a child keeps its position
        attach(child_2, [get_2(p) for p in parents], outs, pending)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from gateway.execution.errors import Fallback
from gateway.execution.nodes import Child, Eager, Leaf, Pending, Write

_FAST_CHECKS = {
    "str": "type(v) is not str",
    "bool": "type(v) is not bool",
    "int": "type(v) is not int or not -2147483648 <= v <= 2147483647",
}


def compile_writer(
    type_name: str, fields: tuple[Leaf | Child, ...], eager: tuple[Eager, ...] = ()
) -> Write:
    namespace: dict[str, Any] = {"attach": attach, "zip": zip, "type": type, "Fallback": Fallback}
    lines = ["def write(parents, outs, pending):", "    for parent, out in zip(parents, outs):"]
    lines.extend(_eager_lines(eager, "parent", namespace, depth=2))
    after: list[str] = []
    for index, field in enumerate(fields):
        key = repr(field.key)
        if isinstance(field, Child):
            lines.append(f"        out[{key}] = None")
            namespace[f"child_{index}"] = field
            if field.load is not None:
                after.append(f"    pending.append((child_{index}, parents, outs))")
            else:
                namespace[f"get_{index}"] = field.get
                after.append(
                    f"    attach(child_{index}, [get_{index}(p) for p in parents], outs, pending)"
                )
            continue
        lines.extend(_leaf_lines(index, field, key, namespace))
    lines.append("        pass")  # a selection of children only still needs a loop body
    source = "\n".join([*lines, *after, ""])
    # Only our own text: keys are GraphQL names and entity keys are repr()-quoted.
    exec(compile(source, f"<writer {type_name}>", "exec"), namespace)
    write: Write = namespace["write"]
    return write


def _eager_lines(
    checks: tuple[Eager, ...],
    var: str,
    namespace: dict[str, Any],
    *,
    depth: int,
    numbers: Iterator[int] | None = None,
) -> list[str]:
    """Statements that fail exactly when the reference's check of `var` would."""
    numbers = numbers or itertools.count()
    pad, lines = "    " * depth, []
    for check in checks:
        name = f"eager_{next(numbers)}"  # a global for a check, a local for a nested object
        read = f"{var}[{check.key!r}]"
        if check.kind == "read":
            lines.append(f"{pad}{read}")
        elif check.kind == "enum":
            namespace[name] = check.values
            lines += [f"{pad}if {read} not in {name}:", f"{pad}    raise Fallback"]
        elif check.kind == "date":
            namespace[name] = check.parse
            lines.append(f"{pad}{name}({read})")
        elif check.kind == "compute":
            namespace[name] = check.fn
            lines.append(f"{pad}{name}({var})")
        else:  # nested: the object the reference checks at `key`
            lines.append(f"{pad}{name} = {read}")
            lines.extend(_eager_lines(check.nested, name, namespace, depth=depth, numbers=numbers))
    return lines


def _leaf_lines(index: int, leaf: Leaf, key: str, namespace: dict[str, Any]) -> list[str]:
    if leaf.constant is not None:
        return [f"        out[{key}] = {leaf.constant!r}"]
    namespace[f"slow_{index}"] = leaf.slow
    if leaf.read is not None:
        lines = [f"        v = parent[{leaf.read!r}]"]
    else:
        namespace[f"get_{index}"] = leaf.get
        lines = [f"        v = get_{index}(parent)"]
    if leaf.fast == "enum" and leaf.names is not None:
        namespace[f"names_{index}"] = leaf.names
        lines += [
            f"        w = names_{index}.get(v) if type(v) is str else None",
            f"        v = w if w is not None else slow_{index}(v)",
        ]
    elif leaf.fast == "iso" and leaf.iso is not None:
        namespace[f"iso_{index}"] = leaf.iso
        lines.append(f"        v = iso_{index}(v) if type(v) is str else slow_{index}(v)")
    elif leaf.fast in _FAST_CHECKS:
        lines += [f"        if {_FAST_CHECKS[leaf.fast]}:", f"            v = slow_{index}(v)"]
    else:
        lines.append(f"        v = slow_{index}(v)")
    lines.append(f"        out[{key}] = v")
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
