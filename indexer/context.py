"""Opening the store and the index of a data folder from the settings."""

from dataclasses import dataclass

from index.generations import IndexHome
from settings import data_dir, read_settings
from store.base import open_store


@dataclass
class KnowledgeBase:
    """The store and the index home of one data folder, with the settings that chose them."""

    settings: dict
    store: object
    home: IndexHome

    def close(self):
        """Release the store's connections."""
        self.store.close()


def open_knowledge_base(overrides=None, environ=None):
    """Open the store (migrated) and the index home that the settings name.

    :param overrides: settings that win over the environment.
    :param environ: the environment mapping (``os.environ`` when None).
    :returns: a :class:`KnowledgeBase`.
    """
    settings = read_settings(environ, overrides)
    folder = data_dir(settings)
    return KnowledgeBase(settings=settings, store=open_store(settings, folder), home=IndexHome(folder))
