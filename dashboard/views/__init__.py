"""The dashboard's views: one ``pn.viewable.Viewer`` per chart or panel, all reading one ``Explorer``."""
