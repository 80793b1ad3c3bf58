"""Rings: persons linked through the phones and addresses they share, found as a graph's connected components.

Pure computation over blind indexes (no database, no clear identifier): :func:`find_rings` takes one row per
(person, furnisher, attribute) with the keyed index of the attribute's normalised value and the first period
it was reported, and returns one row per person of a ring. An attribute links the persons it was given for
when

* it was given for at least two persons and at most ``cap`` (a shared hotline, a campus or a company's
  address is given for very many unrelated persons: linking them would make one huge ring of honest people);
* at least ``min_lenders`` different furnishers reported it, across its persons (one lender's data-entry
  error does not make a ring);
* its persons are at least two *holders*: files that share it and a birth date (rows of kind ``birth``, which
  link nobody themselves) count as one holder, a person that identity resolution keeps as two files because
  lenders know them by two documents (a resident ID and a passport or a customer number), or twins at one
  address: not unrelated persons.

The persons an attribute links are joined in a graph (networkx), and each connected component of two or
more persons is a ring: persons linked through a chain (A shares a phone with B, B an address with C) are in
one ring. A ring's size is the number of its holders (one person's two files count once). A ring is first
seen in the period its first link appeared: the earliest period at which one of its attributes had been
reported for two of its holders.

Example:
    >>> rings = find_rings(attributes, delinquent={7, 9}, cap=10, min_lenders=2)
    >>> rings.select("person_id", "ring_size", "linked_by").rows()
    [(7, 3, 'address,phone'), (8, 3, 'address,phone'), (9, 3, 'address,phone')]
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import polars as pl

ATTRIBUTE_SCHEMA = {"person_id": pl.Int64, "furnisher_id": pl.Int64, "kind": pl.String, "index": pl.Binary,
                    "period": pl.String}
BIRTH = "birth"  # the kind of a person's birth date: tells one person's two files apart from two persons
RING_SCHEMA = {"person_id": pl.Int64, "ring_id": pl.Int64, "ring_size": pl.Int64, "linked_by": pl.String,
               "lenders": pl.Int64, "delinquent": pl.Int64, "shared_attributes": pl.Int64, "first_seen": pl.String}


@dataclass(frozen=True, slots=True)
class Rings:
    """What a build found: one row per person of a ring (``RING_SCHEMA``) and what it left out."""

    members: pl.DataFrame
    attributes: int  # distinct attributes seen
    linking: int  # attributes that link persons
    over_cap: int  # attributes given for more than ``cap`` persons: left out
    single_lender: int  # shared attributes that fewer than ``min_lenders`` furnishers reported: left out


def find_rings(attributes: pl.DataFrame, *, delinquent: set[int], cap: int, min_lenders: int) -> Rings:
    """The rings in ``attributes`` (``ATTRIBUTE_SCHEMA``).

    Args:
        attributes: one row per reported (person, furnisher, attribute kind, blind index, period); kind
            ``birth`` rows give a person's birth dates (blind-indexed), which only tell holders apart.
        delinquent: persons counted as delinquent in their ring's figures.
        cap: an attribute given for more persons than this links nobody.
        min_lenders: furnishers that must have reported an attribute for it to link persons.

    Returns:
        The persons of every ring with its size, what links it, the furnishers behind its links, how many
        of its persons are delinquent, how many of the person's own attributes are shared, and when the
        ring was first seen.
    """
    births = attributes.filter(pl.col("kind") == BIRTH).select("person_id", birth="index").unique()
    attributes = attributes.filter(pl.col("kind") != BIRTH)
    if attributes.height == 0:
        return Rings(pl.DataFrame(schema=RING_SCHEMA), 0, 0, 0, 0)
    per_person = attributes.group_by("kind", "index", "person_id").agg(pl.col("period").min().alias("first"))
    # The holder of each attribute's person: the first of the attribute's persons with the same birth date.
    holder = (per_person.select("kind", "index", "person_id").join(births, on="person_id", how="left")
              .with_columns(pl.when(pl.col("birth").is_null()).then(pl.col("person_id"))
                            .otherwise(pl.col("person_id").min().over("kind", "index", "birth")).alias("holder"))
              .group_by("kind", "index", "person_id").agg(pl.col("holder").min()))
    stats = attributes.join(holder, on=["kind", "index", "person_id"]).group_by("kind", "index").agg(
        pl.col("holder").n_unique().alias("persons"), pl.col("furnisher_id").n_unique().alias("lenders"))
    shared = stats.filter(pl.col("persons") >= 2)
    over_cap = shared.filter(pl.col("persons") > cap).height
    single = shared.filter((pl.col("persons") <= cap) & (pl.col("lenders") < min_lenders)).height
    linking = shared.filter((pl.col("persons") <= cap) & (pl.col("lenders") >= min_lenders)).select("kind", "index")
    if linking.height == 0:
        return Rings(pl.DataFrame(schema=RING_SCHEMA), stats.height, 0, over_cap, single)
    links = (per_person.join(linking, on=["kind", "index"]).join(holder, on=["kind", "index", "person_id"])
             .sort("kind", "index", "first", "person_id"))
    # The period an attribute first linked two holders: the first report of it by another holder than the first.
    since = links.group_by("kind", "index").agg(
        pl.col("first").filter(pl.col("holder") != pl.col("holder").first()).first().alias("linked_since"),
        pl.col("person_id").alias("persons"))
    graph = nx.Graph()
    for persons in since["persons"].to_list():
        graph.add_nodes_from(persons)
        graph.add_edges_from(zip(persons, persons[1:], strict=False))  # a path joins them all
    rows = []
    for ring_id, component in enumerate(sorted(nx.connected_components(graph), key=min), start=1):
        rows.extend((person, ring_id) for person in component)
    ring_of = pl.DataFrame(rows, schema={"person_id": pl.Int64, "ring_id": pl.Int64}, orient="row")
    person_holder = links.group_by("person_id").agg(pl.col("holder").min())  # a ring's size counts holders
    # Each attribute belongs to the ring of its persons (all in one component by construction).
    attr_ring = since.select("kind", "index", pl.col("persons").list.first().alias("person_id"), "linked_since").join(
        ring_of, on="person_id").drop("person_id")
    reporting = attributes.join(linking, on=["kind", "index"]).join(attr_ring.select("kind", "index", "ring_id"),
                                                                     on=["kind", "index"])
    ring_figures = (
        attr_ring.group_by("ring_id").agg(pl.col("kind").unique().sort().str.join(",").alias("linked_by"),
                                          pl.col("linked_since").min().alias("first_seen"))
        .join(reporting.group_by("ring_id").agg(pl.col("furnisher_id").n_unique().alias("lenders")), on="ring_id")
        .join(ring_of.join(person_holder, on="person_id").group_by("ring_id").agg(
            pl.col("holder").n_unique().alias("ring_size"),
            pl.col("person_id").is_in(sorted(delinquent)).sum().cast(pl.Int64).alias("delinquent")), on="ring_id"))
    own = links.group_by("person_id").agg(pl.len().cast(pl.Int64).alias("shared_attributes"))
    members = (ring_of.join(ring_figures, on="ring_id").join(own, on="person_id")
               .select(*RING_SCHEMA).cast(RING_SCHEMA).sort("ring_id", "person_id"))
    return Rings(members, stats.height, linking.height, over_cap, single)
