"""Topics with identities that survive from night to night.

A run works on the items of a window (`[topics] window_days` before the run date) and
either reclusters them all or only attaches the new ones:

- Full reclustering (every `recluster_days`, when there are no topics yet, or when the
  unassigned share passes `max_unassigned_share`): PCA, then k-means warm-started from
  the previous topics' centroids, so a topic whose members barely changed comes back as
  the same cluster. Items far below their cluster's typical similarity (a robust
  median/MAD floor) and clusters smaller than `min_topic_size` fit no topic. Clusters are
  matched one-to-one to the previous topics (centroid cosine plus member overlap,
  Hungarian assignment); matched clusters keep the id, and lineage events are recorded.
- Between reclusterings, a new item joins the nearest topic when it is above that
  topic's floor, or is held unassigned; once the held items are enough, the dense groups
  among them (HDBSCAN) are born as topics.

Each topic is described by c-TF-IDF keywords in English and Chinese
(scanner.topics.keywords), its most representative items, its affinity to every field and
pathway (from the members' stored assignments), and items per period and kind.

Modules: `cluster`, `lineage` and `keywords` are pure; `update` drives the store.
"""

from scanner.topics.cluster import Clusterer
from scanner.topics.keywords import ctfidf_keywords
from scanner.topics.lineage import Topic, attach, match_topics
from scanner.topics.update import update_topics

__all__ = ["Clusterer", "Topic", "attach", "ctfidf_keywords", "match_topics", "update_topics"]
