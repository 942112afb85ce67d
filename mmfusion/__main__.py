from mmfusion.cli import entry

entry()
