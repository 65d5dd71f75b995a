"""The image: Dockerfile and .dockerignore from the spec (pure), a Dockerfile lint (pure), and the
builders and registries that make and store it (I/O, in `builders`)."""

from kubeship.build.dockerfile import context_files, dockerfile, dockerignore
from kubeship.build.lint import lint
from kubeship.build.tags import GitState, image_tags, repository

__all__ = ["GitState", "context_files", "dockerfile", "dockerignore", "image_tags", "lint", "repository"]
